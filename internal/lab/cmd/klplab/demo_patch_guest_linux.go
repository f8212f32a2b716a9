// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// kpatchGuest runs the demo in the guest and ends the VM with a verdict.
func kpatchGuest(args []string, w io.Writer) {
	verdict := byte(vmtest.VerdictPass)
	err := vmtest.SetupGuest()
	if err == nil {
		if len(args) != 2 {
			err = fmt.Errorf("want <module> <file to show>, got %q", args)
		} else {
			err = kpatchDemoGuest(w, args[0], args[1])
		}
	}
	if err != nil {
		fmt.Fprintln(w, "FAILED:", err)
		verdict = vmtest.VerdictFail
	}
	vmtest.ExitGuest(verdict)
}

func kpatchDemoGuest(w io.Writer, ko, show string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	say := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	read := func() string {
		b, err := os.ReadFile(show)
		if err != nil {
			return "(" + err.Error() + ")"
		}
		return strings.TrimRight(string(b), "\n")
	}
	release, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	say("guest kernel %s", strings.TrimSpace(string(release)))
	before := read()
	say("%s before:  %s", show, before)

	if err := kpatch(ctx, w, "load", ko); err != nil {
		return err
	}
	during := read()
	say("%s now:     %s", show, during)
	if during == before {
		return fmt.Errorf("%s did not change while the livepatch is loaded", show)
	}
	if err := kpatch(ctx, w, "list"); err != nil {
		return err
	}
	name := strings.TrimSuffix(filepath.Base(ko), ".ko")
	if err := kpatch(ctx, w, "unload", name); err != nil {
		return err
	}
	after := read()
	say("%s after:   %s", show, after)
	if after != before {
		return fmt.Errorf("%s not restored after unload: %q", show, after)
	}
	return nil
}

// kpatch runs the kpatch CLI in the guest and shows its output.
func kpatch(ctx context.Context, w io.Writer, args ...string) error {
	fmt.Fprintf(w, "# kpatch %s\n", strings.Join(args, " "))
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, guestKpatch, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	for _, line := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		if line != "" {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	if err != nil {
		return errors.Join(fmt.Errorf("kpatch %s", strings.Join(args, " ")), err)
	}
	return nil
}
