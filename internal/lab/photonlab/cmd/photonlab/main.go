// SPDX-License-Identifier: Apache-2.0

// Command photonlab builds and describes klpkit's Photon lab: the lab
// kernel versioned as a Photon 5 kernel and the Photon-layout repository
// serving its source and debuginfo RPMs (package photonlab).
//
//	photonlab prepare [--dir DIR] [--assets DIR] [--generation ph5|ph4] [--release N] [--flavors generic,aws] [--jobs N] [--packages DIR]
//	photonlab info    [--dir DIR] [--generation ph5|ph4]
//
// DIR is package lab's directory (default $KLPKIT_LAB_DIR, else
// ~/.cache/klpkit/lab); the Debian lab must be prepared first (klplab
// prepare). --assets defaults to testdata/photonlab, so run it from the
// repository root, as `make lab-photon` does. --packages publishes klpkit's own
// RPMs (make rpms) in the lab release's updates repository. --generation ph4
// builds the Photon 4.0 lab (5.10.<n>-1.ph4, generic) from the 5.10 lab's
// source with its gcc-10, in its toolchain root (`make lab-photon-ph4`).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/photon"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "photonlab:", err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

const usage = `usage: photonlab prepare [--dir DIR] [--assets DIR] [--generation ph5|ph4] [--release N] [--flavors generic,aws] [--jobs N] [--packages DIR] [-v]
       photonlab info [--dir DIR] [--generation ph5|ph4]`

// run is the testable body of main.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{usage}
	}
	switch args[0] {
	case "prepare":
		return cmdPrepare(ctx, args[1:], getenv, stderr)
	case "info":
		return cmdInfo(args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q\n%s", args[0], usage)}
}

func cmdPrepare(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := pflag.NewFlagSet("prepare", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", lab.DirFromEnv(getenv), "lab cache directory (package lab's)")
	assets := fs.String("assets", "testdata/photonlab", "spec template, config fragment and patches")
	release := fs.String("release", "1", "RPM release of the lab kernel (uname -r is <version>-<release>.ph5)")
	jobs := fs.Int("jobs", 0, "make -j and xz threads (default: CPU count)")
	flavors := fs.StringSlice("flavors", nil, "kernel flavors to build (generic is always built; default generic,aws for ph5, generic for ph4)")
	generation := fs.String("generation", "ph5", "Photon release of the lab kernels: ph5 (6.1, host gcc-12) or ph4 (5.10, gcc-10 in the 5.10 lab's toolchain root)")
	verbose := fs.BoolP("verbose", "v", false, "also show every command run")
	packages := fs.StringSlice("packages", nil, "klpkit's own RPMs (make rpms; files, or directories of *.rpm) to publish in the updates repository")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("prepare takes no arguments (got %q)\n%s", fs.Args(), usage)}
	}
	rpms, err := expandPackages(*packages)
	if err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	gen, err := photonlab.ParseGeneration(*generation)
	if err != nil {
		return usageError{err.Error()}
	}
	var fl []photon.Flavor
	for _, f := range *flavors {
		fl = append(fl, photon.Flavor(f))
	}
	l, err := photonlab.Prepare(ctx, photonlab.Config{
		LabDir: *dir, Assets: *assets, Release: *release, Jobs: *jobs, Flavors: fl, Packages: rpms, Generation: gen,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		return err
	}
	fmt.Fprint(stderr, l.String())
	return nil
}

// expandPackages turns --packages into files: a directory stands for
// the *.rpm files in it.
func expandPackages(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("--packages: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		rpms, err := filepath.Glob(filepath.Join(a, "*.rpm"))
		if err != nil {
			return nil, err
		}
		if len(rpms) == 0 {
			return nil, fmt.Errorf("--packages: no *.rpm in %s", a)
		}
		files = append(files, rpms...)
	}
	return files, nil
}

func cmdInfo(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet("info", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", lab.DirFromEnv(getenv), "lab cache directory (package lab's)")
	generation := fs.String("generation", "", "the lab of this Photon release (ph5, ph4; default: the newest lab)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	open := photonlab.Open
	if *generation != "" {
		g, err := photonlab.ParseGeneration(*generation)
		if err != nil {
			return usageError{err.Error()}
		}
		open = func(dir string) (*photonlab.Lab, error) { return photonlab.OpenGeneration(dir, g) }
	}
	l, err := open(*dir)
	if err != nil {
		return err
	}
	fmt.Fprint(stdout, l.String())
	return nil
}
