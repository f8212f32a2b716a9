// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// cmdGuest is the demo's guest side: klplab runs as /init in the VM, shows
// /proc/cmdline, loads the sample livepatch, shows the effect and the sysfs
// state, unloads it, and ends the VM with a verdict. It never returns there.
func cmdGuest(_ []string, stdout io.Writer) error {
	if os.Getpid() != 1 {
		return errors.New("the guest command only runs as /init of the demo VM")
	}
	verdict := byte(vmtest.VerdictPass)
	if err := vmtest.SetupGuest(); err == nil {
		err = demoGuest(stdout)
		if err != nil {
			fmt.Fprintln(stdout, "FAILED:", err)
			verdict = vmtest.VerdictFail
		}
	} else {
		fmt.Fprintln(stdout, "guest setup:", err)
		verdict = vmtest.VerdictFail
	}
	vmtest.ExitGuest(verdict)
	return nil
}

func demoGuest(w io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	say := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	cmdline := func() string {
		b, _ := os.ReadFile("/proc/cmdline")
		return strings.TrimSpace(string(b))
	}
	release, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	say("guest kernel %s", strings.TrimSpace(string(release)))
	before := cmdline()
	say("/proc/cmdline before: %s", before)

	start := time.Now()
	say("loading %s (finit_module)", guestModule)
	if err := lab.LoadModule(guestModule); err != nil {
		return err
	}
	if err := lab.WaitTransition(ctx, "/sys", lab.SampleName); err != nil {
		return err
	}
	say("patched in %s", time.Since(start).Round(time.Millisecond))
	during := cmdline()
	say("/proc/cmdline now:    %s", during)
	showLivepatchState(w)
	if during != lab.SampleMarker {
		return fmt.Errorf("/proc/cmdline is %q, want the sample's marker", during)
	}

	say("disabling: echo 0 > %s/enabled", lab.LivepatchDir("/sys", lab.SampleName))
	if err := lab.DisableLivepatch(ctx, "/sys", lab.SampleName); err != nil {
		return err
	}
	say("unloading %s (delete_module)", lab.SampleName)
	if err := lab.UnloadModule(ctx, lab.SampleName); err != nil {
		return err
	}
	after := cmdline()
	say("/proc/cmdline after:  %s", after)
	if after != before {
		return fmt.Errorf("/proc/cmdline not restored: %q", after)
	}
	say("restored; the module is gone from /proc/modules: %v", !strings.Contains(readTrim("/proc/modules"), lab.SampleName))
	if log, err := vmtest.Dmesg(); err == nil {
		say("kernel log about the patch:")
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, "livepatch") || strings.Contains(line, lab.SampleName) {
				say("  %s", line)
			}
		}
	}
	return nil
}

// showLivepatchState prints the sysfs view of the enabled patch and the taint.
func showLivepatchState(w io.Writer) {
	dir := lab.LivepatchDir("/sys", lab.SampleName)
	fmt.Fprintf(w, "%s: enabled=%s transition=%s\n", dir, readTrim(filepath.Join(dir, "enabled")), readTrim(filepath.Join(dir, "transition")))
	funcs, _ := filepath.Glob(filepath.Join(dir, "*", "*,*"))
	for _, f := range funcs {
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(w, "  patched function: %s\n", rel)
	}
	for _, line := range strings.Split(readTrim("/proc/modules"), "\n") {
		if strings.HasPrefix(line, lab.SampleName+" ") {
			fmt.Fprintf(w, "/proc/modules: %s\n", line)
		}
	}
	taint, _ := strconv.Atoi(readTrim("/proc/sys/kernel/tainted"))
	fmt.Fprintf(w, "kernel taint: %d (O out-of-tree=%t, E unsigned=%t, K livepatched=%t)\n",
		taint, taint&(1<<12) != 0, taint&(1<<13) != 0, taint&(1<<15) != 0)
}

func readTrim(name string) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return strings.TrimSpace(string(b))
}
