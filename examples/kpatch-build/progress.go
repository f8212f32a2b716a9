// SPDX-License-Identifier: Apache-2.0

package main

import (
	"io"
	"strings"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/cliprogress"
)

// statusLines are kpatch-build's stdout lines for the start of each stage.
var statusLines = map[build.Stage]string{
	build.StagePatch:   "Testing patch file(s)",
	build.StageCompile: "Building original and patched objects",
	build.StageDiff:    "Extracting new and modified ELF sections",
}

// progress shows build events: kpatch-build's status lines on stdout, and
// every event on stderr, as plain lines or, on a terminal, as one
// redrawn bar.
type progress struct {
	*cliprogress.Display
	// started are the stages whose status line is printed: a stage reports
	// more than one start (a placed hunk, a header change) but kpatch-build
	// prints its line once.
	started map[build.Stage]bool
}

func newProgress(stdout, stderr io.Writer, terminal bool) *progress {
	return &progress{Display: cliprogress.New(stdout, stderr, terminal), started: map[build.Stage]bool{}}
}

func (p *progress) event(e build.Event) {
	if e.Done == 0 {
		status, ok := statusLines[e.Stage]
		if e.Stage == build.StageLink {
			status, ok = "Building patch module: "+strings.TrimPrefix(e.Message, "building patch module "), true
		}
		if ok && (e.Stage == build.StageLink || !p.started[e.Stage]) {
			p.Status(status)
		}
		p.started[e.Stage] = true
	}
	p.Step(string(e.Stage), e.Done, e.Total, e.Message)
}

// finish ends the bar's line.
func (p *progress) finish() { p.Finish() }
