// SPDX-License-Identifier: Apache-2.0

// Command klplab prepares klpkit's QEMU test lab and demonstrates it.
//
//	klplab prepare [--dir DIR] [--source=false] [--generation 6.1|5.10]
//	                                              fetch and cache the lab kernel (make lab-debian,
//	                                              make lab-5.10)
//	klplab info    [--dir DIR] [--generation G] [FIELD]
//	                                              print the lab's paths, or one of them
//	                                              (release, source, vmlinux, headers, ...)
//	klplab demo    [--dir DIR] [--generation G] [--patch FILE] [--show FILE] [--sample DIR]
//	                                              build a livepatch from a patch with build.Run, boot the
//	                                              lab kernel, load it with the kpatch CLI, show the effect
//	                                              (make demo); --sample builds the hand-written sample instead
//
// DIR defaults to $KLPKIT_LAB_DIR, else $XDG_CACHE_HOME/klpkit/lab (~/.cache/klpkit/lab).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/klpkit/klpkit/internal/version"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "klplab:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

const usage = `usage: klplab version
       klplab prepare [--dir DIR] [--source=false] [--jobs N] [--generation 6.1|5.10]
       klplab info [--dir DIR] [--generation 6.1|5.10] [release|version|source|vmlinux|headers|config|system-map|vmlinuz|modules|toolchain-root|compiler]
       klplab demo [--dir DIR] [--generation 6.1|5.10] [--patch FILE] [--show FILE] [--sample DIR]`

// run is the testable body of main.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{usage}
	}
	switch args[0] {
	case "prepare":
		return cmdPrepare(ctx, args[1:], stderr)
	case "info":
		return cmdInfo(args[1:], stdout)
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr)
	case guestCommand:
		return cmdGuest(args[1:], stdout)
	case kpatchGuestCommand: // klplab as the demo VM's /init; powers the VM off
		kpatchGuest(args[1:], stdout)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	case "version", "--version":
		fmt.Fprintln(stdout, version.Line())
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q\n%s", args[0], usage)}
}
