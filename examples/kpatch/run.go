// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	klpversion "github.com/klpkit/klpkit/internal/version"
	"github.com/klpkit/klpkit/kmod"
)

// version is the kpatch version whose behaviour this command follows.
const version = "0.9.8"

const usageText = `usage: kpatch <command> [<args>]

Valid commands:
   install [-k|--kernel-version=<kernel version>] <module>
      install patch module to be loaded at boot
   uninstall [-k|--kernel-version=<kernel version>] <module>
      uninstall patch module
   load --all
      load all installed patch modules into the running kernel
   load [--retire-older [--allow-unpatched-window]] <module>
      load patch module into the running kernel; --retire-older then
      unloads the other patch modules (for a cumulative non-replace
      patch); kernels before 5.1 retire them only by taking the new
      patch down and up again, which --allow-unpatched-window permits
   unload --all
      unload all patch modules from the running kernel
   unload <module>
      unload patch module from the running kernel
   info [--cert=<cert>...] <module>
      show information about a patch module, with its signature's
      signer, key id and hash; --cert verifies the signature against
      certificates (PEM or DER), as the kernel does against its keys
   list [--json]
      list installed patch modules
   signal
      signal/poke any process stalling the current patch transition
   force [<module>]
      force the patch transition to complete; the module can then never
      be removed
   version
      display the kpatch version, then klpkit's
   help
      show this help

Options of load, unload, install, uninstall:
   --store=photon|upstream   install store: /lib/modules/<kver>/livepatches
                             (photon, the default) or /var/lib/kpatch/<kver>;
                             both are always read
   --timeout=<duration>      how long a patch transition may take (default 75s)
`

// errUsage: usage was printed; nothing more to say.
var errUsage = errors.New("usage")

// app is the command with its host. Tests give it a fake System.
type app struct {
	sys    *kmod.System
	stdout io.Writer
	stderr io.Writer
	timing *kmod.Timing
	// enableUnit enables kpatch.service after an install (nil: skip).
	enableUnit func() error
	// depmod refreshes the module index for a kernel after install and
	// uninstall, as Photon's kpatch does, so modinfo finds the module
	// (nil: skip).
	depmod func(kver string) error
	// privileges reports what the process may do (nil: anything, for
	// tests on a fake kernel).
	privileges func() privileges
}

// run is the command: args without the program name. It reports failures on
// stderr and returns them; main exits 1.
func run(args []string, stdout, stderr io.Writer) error {
	a := &app{sys: &kmod.System{}, stdout: stdout, stderr: stderr, enableUnit: enableUnit, depmod: depmod,
		privileges: currentPrivileges}
	return a.run(args)
}

func (a *app) run(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := a.dispatch(ctx, args)
	if err != nil && !errors.Is(err, errUsage) {
		fmt.Fprintf(a.stderr, "kpatch: %v\n", err)
	}
	return err
}

func (a *app) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return a.usage()
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "load":
		return a.load(ctx, rest)
	case "unload":
		return a.unload(ctx, rest)
	case "install":
		return a.install(rest)
	case "uninstall":
		return a.uninstall(rest)
	case "list":
		return a.list(rest)
	case "info":
		return a.info(rest)
	case "signal":
		return a.signal(rest)
	case "force":
		return a.force(rest)
	case "version", "-v", "--version":
		// kpatch's line first, for scripts that parse it; then klpkit's.
		fmt.Fprintln(a.stdout, version)
		fmt.Fprintln(a.stdout, klpversion.Line())
		return nil
	case "help", "-h", "--help":
		return a.usage()
	}
	fmt.Fprintf(a.stderr, "kpatch: subcommand %s not recognized\n", cmd)
	return a.usage()
}

func (a *app) usage() error {
	fmt.Fprint(a.stderr, usageText)
	return errUsage
}

// enableUnit enables kpatch.service where systemd runs, as kpatch install
// does, so installed modules load at boot.
func enableUnit() error {
	if _, err := exec.LookPath("systemctl"); err != nil {
		return nil
	}
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return nil
	}
	out, err := exec.Command("systemctl", "enable", "kpatch.service").CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl enable kpatch.service: %v: %s", err, out)
	}
	return nil
}

// depmod runs depmod for kver where depmod and the kernel's module tree
// exist.
func depmod(kver string) error {
	if _, err := exec.LookPath("depmod"); err != nil {
		return nil
	}
	if _, err := os.Stat("/lib/modules/" + kver + "/modules.dep"); err != nil {
		return nil
	}
	out, err := exec.Command("depmod", "-a", kver).CombinedOutput()
	if err != nil {
		return fmt.Errorf("depmod -a %s: %v: %s", kver, err, out)
	}
	return nil
}

func seconds(d time.Duration) int { return int(d.Round(time.Second) / time.Second) }
