// SPDX-License-Identifier: Apache-2.0

// Command fleet-agent is what a provisioning system that embeds klpkit
// does on each host, as a program of its own module (its go.mod requires
// klpkit and the newest golang.org/x/crypto, as an importer's would): it
// reads the running kernel's release (or -uname), asks the Photon support
// matrix whether it can take livepatches (with the reason code when not),
// lists the livepatches loaded, plans a livepatch build for a prepared
// tree with build.Check (a dry run: nothing is compiled), and packages a
// built module as an RPM. It prints one JSON report on stdout.
//
//	fleet-agent [-uname RELEASE] [-tree DIR (-vmlinux FILE | -system-map FILE) -patch FILE...]
//	            [-module X.ko] [-o DIR]
//
// -h and --help print this usage on stdout and exit 0; no arguments is a
// valid run (assess this host); a bad option prints the usage on stderr
// and exits 2, as Go's flag package does.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/klpkit/klpkit/kmod"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], &kmod.System{}, os.Stdout, os.Stderr))
}

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return fmt.Sprint(*l) }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

// run is the command on the host sys; it returns the exit status.
func run(ctx context.Context, args []string, sys *kmod.System, stdout, stderr io.Writer) int {
	var cfg config
	var patches stringList
	fs := flag.NewFlagSet("fleet-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Release, "uname", "", "kernel release to assess (default: the running kernel)")
	fs.StringVar(&cfg.Tree.Dir, "tree", "", "prepared kernel tree to plan a build in")
	fs.StringVar(&cfg.Tree.Vmlinux, "vmlinux", "", "the kernel's vmlinux")
	fs.StringVar(&cfg.Tree.SystemMap, "system-map", "", "the kernel's System.map, without a vmlinux")
	fs.Var(&patches, "patch", "patch to plan a build for (repeatable)")
	fs.BoolVar(&cfg.SkipCompilerCheck, "skip-compiler-check", false, "do not require the kernel's compiler")
	fs.StringVar(&cfg.Module, "module", "", "livepatch module to package as an RPM")
	fs.StringVar(&cfg.OutputDir, "o", "", "output directory (default: the working directory)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "fleet-agent: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg.Patches = patches
	if cfg.OutputDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			fmt.Fprintf(stderr, "fleet-agent: %v\n", err)
			return 1
		}
		cfg.OutputDir = wd
	}
	r, err := assess(ctx, sys, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "fleet-agent: %v\n", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		fmt.Fprintf(stderr, "fleet-agent: %v\n", err)
		return 1
	}
	return 0
}
