// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/photonsource"
	"github.com/klpkit/klpkit/internal/clijson"
	"github.com/klpkit/klpkit/internal/cliprogress"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// progress shows what the run is doing: status lines on stdout, and every
// event on stderr, as plain lines or, on a terminal, one redrawn bar.
type progress struct {
	*cliprogress.Display
	terminal bool
	// events and clock serve --json-events and --json; nil without them.
	events *clijson.Events
	clock  *clijson.Clock
}

func newProgress(stdout, stderr io.Writer, terminal bool) *progress {
	return &progress{Display: cliprogress.New(stdout, stderr, terminal), terminal: terminal}
}

// report is the one klpkit.ProgressFunc of a run: the photon source's
// steps, the downloads and the build all report through it.
func (p *progress) report(r klpkit.Progress) {
	switch e := r.Detail.(type) {
	case kernelsrc.DownloadEvent:
		p.download(e)
	case build.Event:
		p.event(e)
	case nil:
		if r.Op == klpkit.OpSource {
			p.step(photonsource.Step(r.Step), r.Message)
		}
	}
}

// step is photonsource's progress: a status line.
func (p *progress) step(step photonsource.Step, msg string) {
	p.stage(string(step))
	p.events.Emit("prepare", stepEvent{Step: string(step), Message: msg})
	p.Status(upper(msg))
}

// stage notes the stage an event belongs to, for --json's timings.
func (p *progress) stage(s string) {
	if p.clock != nil {
		p.clock.Stage(s)
	}
}

// download shows bytes of a package download.
func (p *progress) download(e kernelsrc.DownloadEvent) {
	p.stage(string(photonsource.StepFetch))
	p.events.Emit("fetch", e)
	switch {
	case e.Retry != nil:
		p.Warn(fmt.Sprintf("retrying %s (attempt %d): %v", e.File, e.Attempt+1, e.Retry))
	case e.Done:
		p.Step("fetch", 1, 1, fmt.Sprintf("downloaded %s (%s)", e.File, cliprogress.Size(e.Bytes)))
	case !p.terminal:
		// Plain output: only start and end, not every chunk.
		if e.Bytes == 0 {
			p.Step("fetch", 0, 1, "downloading "+e.File)
		}
	default:
		// The bar, with the rate and the time left.
		p.Transfer("fetch", e.File, e.Bytes, e.Total)
	}
}

// event is build.Run's progress.
func (p *progress) event(e build.Event) {
	p.stage(string(e.Stage))
	p.events.Emit("build", e)
	if e.Stage == build.StageOutput {
		return // into the staging directory; the run names the final paths
	}
	if e.Done == 0 {
		p.Status(upper(e.Message))
	}
	p.Step(string(e.Stage), e.Done, e.Total, e.Message)
}

func (p *progress) finish() { p.Finish() }

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
