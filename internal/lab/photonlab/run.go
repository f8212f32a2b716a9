// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/procgroup"
)

// runner runs the external tools of the lab build (make, patch, tar, xz,
// apt-get) and keeps the tail of their output for error messages.
type runner struct {
	log *slog.Logger
	env []string
}

// run runs name in dir; out, when not nil, also receives the output.
func (r *runner) run(ctx context.Context, dir string, out io.Writer, name string, args ...string) error {
	r.log.Debug("run", "dir", dir, "cmd", name+" "+strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), r.env...)
	// A cancelled make leaves its sub-makes and compilers running (and
	// holding the output pipe) unless the whole group is stopped.
	procgroup.StopOnCancel(cmd, 5*time.Second)
	tail := &tailBuffer{max: 8 << 10}
	var w io.Writer = tail
	if out != nil {
		w = io.MultiWriter(tail, out)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s (in %s): %w\n%s", name, strings.Join(args, " "), dir, err, tail.String())
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	if len(t.buf) > t.max {
		return string(t.buf[len(t.buf)-t.max:])
	}
	return string(t.buf)
}

// lineCounter calls every n-th line's callback with the line count, to turn
// make's output into occasional progress lines.
type lineCounter struct {
	n, lines int
	each     func(lines int)
}

func (c *lineCounter) Write(p []byte) (int, error) {
	for _, b := range p {
		if b == '\n' {
			c.lines++
			if c.lines%c.n == 0 {
				c.each(c.lines)
			}
		}
	}
	return len(p), nil
}
