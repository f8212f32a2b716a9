package main

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/photonsource"
	"github.com/klpkit/klpkit/photon"
)

// progress shows what the run is doing: status lines on stdout, and every
// event on stderr, as plain lines or, on a terminal, one redrawn bar.
type progress struct {
	mu             sync.Mutex
	stdout, stderr io.Writer
	terminal       bool
	drawn          bool
}

func newProgress(stdout, stderr io.Writer, terminal bool) *progress {
	return &progress{stdout: stdout, stderr: stderr, terminal: terminal}
}

// step is photonsource's progress: a status line.
func (p *progress) step(_ photonsource.Step, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	fmt.Fprintln(p.stdout, upper(msg))
}

// download shows bytes of a package download.
func (p *progress) download(e photon.DownloadEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case e.Retry != nil:
		p.clear()
		fmt.Fprintf(p.stderr, "retrying %s (attempt %d): %v\n", e.File, e.Attempt+1, e.Retry)
	case e.Done:
		p.line(fmt.Sprintf("downloaded %s (%s)", e.File, size(e.Bytes)), 1, 1, "fetch")
	case !p.terminal:
		// Plain output: only start and end, not every chunk.
		if e.Bytes == 0 {
			p.line("downloading "+e.File, 0, 1, "fetch")
		}
	default:
		p.line(fmt.Sprintf("%s %s of %s", e.File, size(e.Bytes), size(e.Total)), int(e.Bytes), int(max(e.Total, 1)), "fetch")
	}
}

// event is build.Run's progress.
func (p *progress) event(e build.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Stage == build.StageOutput {
		return // into the staging directory; the run names the final paths
	}
	if e.Done == 0 {
		p.clear()
		fmt.Fprintln(p.stdout, upper(e.Message))
	}
	p.line(e.Message, e.Done, e.Total, string(e.Stage))
}

func (p *progress) line(msg string, done, total int, stage string) {
	if !p.terminal {
		fmt.Fprintf(p.stderr, "[%s %d/%d] %s\n", stage, done, total, msg)
		return
	}
	p.clear()
	fmt.Fprintf(p.stderr, "%s %-7s %s", bar(done, total, 20), stage, truncate(msg, 50))
	p.drawn = true
}

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

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func size(n int64) string {
	switch {
	case n < 0:
		return "?"
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
