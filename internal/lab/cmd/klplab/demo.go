// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// guestCommand is the hidden subcommand klplab runs as /init in the demo VM.
const guestCommand = "__guest"

// guestModule is where the sample module sits in the guest.
const guestModule = "/lab/" + lab.SampleName + ".ko"

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("demo", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", defaultDir(), "lab cache directory")
	sample := fs.String("sample", "testdata/lab/livepatch-sample", "show the hand-written sample livepatch module in this directory instead of building one from --patch")
	patch := fs.String("patch", "testdata/patches/cmdline-string.patch", "patch to build a livepatch from with build.Run")
	show := fs.String("show", "/proc/cmdline", "guest file the patch changes, shown before, during and after")
	timeout := fs.Duration("timeout", 3*time.Minute, "time limit for the VM")
	genName := fs.String("generation", string(lab.Bookworm61), "lab kernel generation: 6.1 or 5.10 (in DIR/5.10)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	gen, err := lab.ParseGeneration(*genName)
	if err != nil {
		return usageError{err.Error()}
	}
	l, err := lab.Open(gen.Dir(*dir))
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "klplab-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	say := func(format string, a ...any) { fmt.Fprintf(stdout, "==> "+format+"\n", a...) }
	if static, err := vmtest.IsStatic(self); err != nil || !static {
		say("klplab is dynamically linked (cgo); building a static copy to run as the guest's /init")
		self = filepath.Join(work, "klplab")
		if err := buildStatic(ctx, self); err != nil {
			return err
		}
	}
	if !fs.Changed("sample") {
		d := &patchDemo{lab: l, patch: *patch, show: *show, self: self, work: work, timeout: *timeout, stdout: stdout}
		return d.run(ctx)
	}
	say("lab kernel %s (Debian %s)", l.KernelRelease, l.Version)
	say("building the sample livepatch %s against %s", *sample, l.HeadersDir)
	start := time.Now()
	kos, err := l.BuildModule(ctx, *sample, work, nil)
	if err != nil {
		return err
	}
	say("built %s in %s", filepath.Base(kos[0]), time.Since(start).Round(100*time.Millisecond))
	say("booting the lab kernel in QEMU (TCG); the guest runs klplab itself as /init")
	console := &consoleLines{w: stdout, prefix: "    vm| "}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := vmtest.Boot(ctx, vmtest.BootConfig{
		Kernel:  l.Vmlinuz,
		Files:   []vmtest.File{{Guest: "/init", Host: self, Mode: 0o755}, {Guest: guestModule, Host: kos[0]}},
		Append:  "-- " + guestCommand,
		Console: console,
		WorkDir: work,
	})
	console.flush()
	if err != nil {
		var be *vmtest.BootError
		if errors.As(err, &be) {
			return fmt.Errorf("demo failed: %s", strings.SplitN(be.Error(), "\n", 2)[0])
		}
		return err
	}
	say("demo passed: the livepatch replaced /proc/cmdline and was removed cleanly (VM ran %s)", res.Duration.Round(100*time.Millisecond))
	return nil
}

// buildStatic builds klplab with CGO_ENABLED=0 (run from the module, as make does).
func buildStatic(ctx context.Context, out string) error {
	return goBuildStatic(ctx, out, "github.com/klpkit/klpkit/internal/lab/cmd/klplab")
}

// consoleLines prints the VM's serial output line by line, cleaned and prefixed.
type consoleLines struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (c *consoleLines) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, p...)
	for {
		i := bytes.IndexByte(c.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		c.emit(c.buf[:i])
		c.buf = c.buf[i+1:]
	}
}

func (c *consoleLines) emit(line []byte) {
	if s := vmtest.CleanSerial(line); strings.TrimSpace(s) != "" {
		fmt.Fprintf(c.w, "%s%s\n", c.prefix, s)
	}
}

func (c *consoleLines) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.buf) > 0 {
		c.emit(c.buf)
		c.buf = nil
	}
}
