// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/procgroup"
)

// MakeArgs are the make variables of every kbuild run against the lab
// kernel: the compiler Debian built it with, for the kernel's objects and
// for the host tools, and the lab's release string.
func (l *Lab) MakeArgs() []string {
	if l.Compiler == "" {
		return KbuildArgs(l.KernelRelease)
	}
	return []string{"CC=" + l.Compiler, "HOSTCC=" + l.Compiler, "KERNELRELEASE=" + l.KernelRelease}
}

// Root returns the toolchain root kbuild runs in against this kernel, or
// nil when it runs on the host.
func (l *Lab) Root() *toolchain.Root {
	if l.ToolchainRoot == "" {
		return nil
	}
	return &toolchain.Root{Dir: l.ToolchainRoot}
}

// KbuildHeaders is the headers directory as kbuild sees it: HeadersDir on
// the host, its path inside the root when kbuild runs in one (the same
// path when the lab installed the root's headers on the host; labs
// prepared before that have them only inside the root).
func (l *Lab) KbuildHeaders() (string, error) {
	if l.ToolchainRoot == "" {
		return l.HeadersDir, nil
	}
	if _, err := os.Stat(filepath.Join(l.ToolchainRoot, l.HeadersDir)); err == nil {
		return l.HeadersDir, nil
	}
	rel, err := filepath.Rel(l.ToolchainRoot, l.HeadersDir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("lab %s: headers %s are not inside the toolchain root %s", l.Dir, l.HeadersDir, l.ToolchainRoot)
	}
	return "/" + filepath.ToSlash(rel), nil
}

// Make runs make in dir with MakeArgs and then args: on the host, or, for
// a kernel whose compiler the host lacks, inside the lab's toolchain root
// as root, with dir and binds (host directories: the module's sources, the
// kernel tree) bound into it at their own paths. Its output is logged at
// Debug level and carried by the error when make fails.
func (l *Lab) Make(ctx context.Context, log *slog.Logger, dir string, binds []string, args ...string) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	args = append(l.MakeArgs(), args...)
	root := l.Root()
	if root == nil {
		return (&runner{log: log, env: []string{"LC_ALL=C"}}).run(ctx, dir, "make", args...)
	}
	log.Debug("run in toolchain root", "root", root.Dir, "cmd", "make "+strings.Join(args, " "))
	cmd, err := root.Command(ctx, "make", args...)
	if err != nil {
		return err
	}
	cmd.Dir = dir
	procgroup.StopOnCancel(cmd, 2*time.Second)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := root.Start(cmd, append([]string{dir}, binds...)); err != nil {
		return err
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("in toolchain root %s: %w", root.Dir, commandError(cmd, err, out.String()))
	}
	return nil
}
