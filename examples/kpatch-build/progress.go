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
type progress struct{ *cliprogress.Display }

func newProgress(stdout, stderr io.Writer, terminal bool) *progress {
	return &progress{cliprogress.New(stdout, stderr, terminal)}
}

func (p *progress) event(e build.Event) {
	if e.Done == 0 {
		status, ok := statusLines[e.Stage]
		if e.Stage == build.StageLink {
			status, ok = "Building patch module: "+strings.TrimPrefix(e.Message, "building patch module "), true
		}
		if ok {
			p.Status(status)
		}
	}
	p.Step(string(e.Stage), e.Done, e.Total, e.Message)
}

// finish ends the bar's line.
func (p *progress) finish() { p.Finish() }
