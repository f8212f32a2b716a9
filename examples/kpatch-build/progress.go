package main

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klpkit/klpkit/build"
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
	mu       sync.Mutex
	stdout   io.Writer
	stderr   io.Writer
	terminal bool
	drawn    bool // a bar is on the terminal's last line
}

func newProgress(stdout, stderr io.Writer, terminal bool) *progress {
	return &progress{stdout: stdout, stderr: stderr, terminal: terminal}
}

func (p *progress) event(e build.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Done == 0 {
		status, ok := statusLines[e.Stage]
		if e.Stage == build.StageLink {
			status, ok = "Building patch module: "+strings.TrimPrefix(e.Message, "building patch module "), true
		}
		if ok {
			p.clear()
			fmt.Fprintln(p.stdout, status)
		}
	}
	if !p.terminal {
		fmt.Fprintf(p.stderr, "[%s %d/%d] %s\n", e.Stage, e.Done, e.Total, e.Message)
		return
	}
	p.clear()
	fmt.Fprintf(p.stderr, "%s %-7s %s", bar(e.Done, e.Total, 20), e.Stage, truncate(e.Message, 50))
	p.drawn = true
}

// finish ends the bar's line.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.stderr, "\r\033[K")
		p.drawn = false
	}
}

// bar draws done/total as [=====>    ].
func bar(done, total, width int) string {
	if total <= 0 {
		total = 1
	}
	done = min(max(done, 0), total)
	n := done * width / total
	s := strings.Repeat("=", n)
	if n < width {
		s += ">" + strings.Repeat(" ", width-n-1)
	}
	return "[" + s + "]"
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
