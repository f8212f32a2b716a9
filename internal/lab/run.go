// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/procgroup"
)

// runner runs the external tools Prepare drives (apt, dpkg-deb, tar, make)
// and turns failures into errors that carry the tool's last output lines.
type runner struct {
	log *slog.Logger
	env []string // added to the environment of every command
}

func (r *runner) command(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	// Cancelling kills the helpers too (dpkg-deb forks a decompressor, make
	// forks compilers), and Wait stops waiting for pipes a killed
	// grandchild still holds.
	procgroup.StopOnCancel(cmd, 2*time.Second)
	if len(r.env) > 0 {
		cmd.Env = append(cmd.Environ(), r.env...)
	}
	return cmd
}

// output runs a command and returns its standard output.
func (r *runner) output(ctx context.Context, dir, name string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := r.command(ctx, dir, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", commandError(cmd, err, stderr.String())
	}
	return stdout.String(), nil
}

// run runs a command, logging it, and keeps its output only for the error.
func (r *runner) run(ctx context.Context, dir, name string, args ...string) error {
	r.log.Debug("run", "cmd", name+" "+strings.Join(args, " "))
	var out bytes.Buffer
	cmd := r.command(ctx, dir, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return commandError(cmd, err, out.String())
	}
	return nil
}

func commandError(cmd *exec.Cmd, err error, output string) error {
	return fmt.Errorf("%s: %w%s", strings.Join(cmd.Args, " "), err, tailLines(output, 15))
}

// tailLines returns the last n lines of s, indented, for error messages.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\n\t" + strings.Join(lines, "\n\t")
}
