// SPDX-License-Identifier: Apache-2.0

// Package cliprogress is the progress display the example CLIs share:
// status lines on stdout, and progress on stderr as plain lines, or, when
// stderr is a terminal, as one bar redrawn in place.
package cliprogress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Display writes status and progress lines. It is safe for concurrent use.
type Display struct {
	mu       sync.Mutex
	stdout   io.Writer
	stderr   io.Writer
	terminal bool
	drawn    bool // a bar is on the terminal's last line
	noSteps  bool // Step shows nothing (HideSteps)

	now       func() time.Time    // Transfer's clock; nil: time.Now
	transfers map[string]transfer // Transfer's downloads by file
}

// New returns a display; terminal selects the redrawn bar on stderr.
func New(stdout, stderr io.Writer, terminal bool) *Display {
	return &Display{stdout: stdout, stderr: stderr, terminal: terminal}
}

// Status prints a line on stdout, above any bar.
func (d *Display) Status(line string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clear()
	fmt.Fprintln(d.stdout, line)
}

// Warn prints a line on stderr, above any bar.
func (d *Display) Warn(line string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clear()
	fmt.Fprintln(d.stderr, line)
}

// HideSteps makes Step show nothing, for a CLI that reports progress
// another way (--json-events); status and warning lines still print.
func (d *Display) HideSteps() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.noSteps = true
}

// Step shows done of total in a stage: "[stage done/total] msg" on a plain
// stderr, a bar on a terminal (with the count when total > 1).
func (d *Display) Step(stage string, done, total int, msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.noSteps {
		return
	}
	if !d.terminal {
		fmt.Fprintf(d.stderr, "[%s %d/%d] %s\n", stage, done, total, msg)
		return
	}
	if total > 1 {
		// A count tells more than the bar alone ("compile 3/12").
		stage = fmt.Sprintf("%s %d/%d", stage, done, total)
	}
	d.draw(stage, done, total, msg)
}

// draw redraws the terminal's bar; d.mu is held.
func (d *Display) draw(label string, done, total int, msg string) {
	d.clear()
	fmt.Fprintf(d.stderr, "%s %-7s %s", bar(done, total, 20), label, truncate(msg, 50))
	d.drawn = true
}

// Finish ends the bar's line so that later output starts clean.
func (d *Display) Finish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clear()
}

func (d *Display) clear() {
	if d.drawn {
		fmt.Fprint(d.stderr, "\r\033[K")
		d.drawn = false
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

// Size formats a byte count for people: "512 B", "1.5 KiB", "3.2 MiB".
func Size(n int64) string {
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
