// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/photonsource"
	"github.com/klpkit/klpkit/internal/clijson"
	"github.com/klpkit/klpkit/internal/cliprogress"
	"github.com/klpkit/klpkit/kmod/modsign"
	"github.com/klpkit/klpkit/livepatch"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// Defaults of auto_livepatch.sh, under app.root.
const (
	defaultOutput    = "var/opt/auto_livepatch/livepatches"
	defaultDebuginfo = "var/opt/auto_livepatch/debuginfo"
	defaultCache     = "var/opt/auto_livepatch/cache"
	defaultWork      = "var/opt/auto_livepatch/src"
)

// app is the command with what tests replace.
type app struct {
	stdout, stderr io.Writer
	// root prefixes the default directories ("/").
	root string
	// uname returns the running kernel's release (the default -k).
	uname func() (string, error)
	// now is the clock of the default module name.
	now func() time.Time
	// getenv reads SOURCE_DATE_EPOCH.
	getenv func(string) string
	// prepare fetches and prepares the kernel's tree (Source.Tree) before
	// the build, which then gets the same tree from the Source at no cost.
	prepare func(context.Context, *photonsource.Source) error
	// build is build.Run.
	build func(context.Context, build.Options) (*build.Result, error)
	// check is build.Check (--check).
	check func(context.Context, build.Options) (*build.Plan, error)
	// makeProg is the make program for the kernel tree ("" = make).
	makeProg string
	terminal bool

	// status receives the status lines: stdout, or stderr with --json.
	status io.Writer
	// result is the --json object being filled; nil without --json.
	result *clijson.Result
	// clock times the stages for --json; nil without it.
	clock *clijson.Clock
}

// run is the command: args without the program name. Failures are printed
// as "ERROR: ..." on stderr and returned; main exits 1.
func run(args []string, stdout, stderr io.Writer) error {
	a := &app{stdout: stdout, stderr: stderr, root: "/", uname: hostRelease, now: time.Now,
		getenv: os.Getenv, build: build.Run, check: build.Check,
		prepare: prepareTree, terminal: cliprogress.IsTerminal(stderr)}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return a.run(ctx, args)
}

// prepareTree fetches and prepares the kernel's tree; the Source keeps it
// for the build.
func prepareTree(ctx context.Context, s *photonsource.Source) error {
	_, err := s.Tree(ctx)
	return err
}

func (a *app) run(ctx context.Context, args []string) error {
	err := a.main(ctx, args)
	switch {
	case errors.Is(err, errHelp):
		return nil
	case err != nil:
		fmt.Fprintf(a.stderr, "ERROR: %s\n", err)
	}
	return err
}

func (a *app) main(ctx context.Context, args []string) (err error) {
	a.status = a.stdout
	if clijson.Requested(args) {
		defer a.startJSON()(&err)
	}
	o, err := parse(args, a.stdout)
	if err != nil {
		return err
	}
	job, err := a.plan(o)
	if err != nil {
		return err
	}
	if a.result != nil {
		a.result.Kernel = job.kernel.String()
		a.result.Name = job.name
	}
	if o.check {
		return a.dryRun(ctx, job)
	}
	return a.execute(ctx, job)
}

// job is a checked command line: everything run needs, nothing fetched yet.
type job struct {
	o           *options
	kernel      photon.Kernel
	name        string
	output      string
	description string // -d text
	rpmDesc     string // --rpm-desc text, "" = rpmpkg's default rule
	noReplace   bool
	debugDir    string
	signingKeys []byte
	signer      *modsign.Signer // --sign-key; nil: unsigned
	// rpmSignKey and rpmPassphrase sign the RPM (--rpm-sign-key).
	rpmSignKey, rpmPassphrase []byte
}

// plan checks every input before anything is downloaded or written.
func (a *app) plan(o *options) (*job, error) {
	j := &job{o: o, noReplace: o.nonReplace}
	for _, p := range o.patches {
		if !isFile(p) {
			return nil, fail("Couldn't find patch file %s", p)
		}
	}
	if o.description != "" {
		data, err := readInput("Description file", o.description)
		if err != nil {
			return nil, err
		}
		j.description = strings.TrimSpace(string(data))
	}
	if o.rpmDesc != "" {
		data, err := readInput("RPM description file", o.rpmDesc)
		if err != nil {
			return nil, err
		}
		j.rpmDesc = strings.TrimSpace(string(data))
	}
	for _, f := range []struct{ what, path string }{{"src rpm", o.srcRPM}, {"debuginfo rpm", o.debuginfoRPM}, {"Module.symvers", o.symvers}} {
		if f.path != "" && !isFile(f.path) {
			return nil, fail("Failed to find local %s at %s", f.what, f.path)
		}
	}
	if o.signingKey != "" {
		keys, err := readInput("signing key file", o.signingKey)
		if err != nil {
			return nil, err
		}
		j.signingKeys = keys
	}
	signer, err := o.sign.Signer()
	if err != nil {
		return nil, signOptionsErr(err)
	}
	if j.rpmSignKey, j.rpmPassphrase, err = a.rpmSigning(o); err != nil {
		return nil, err
	}
	if j.signer = signer; signer != nil {
		fmt.Fprintf(a.status, "Signing the module with %s\n", signer)
	}
	release := o.kernel
	if release == "" {
		r, err := a.uname()
		if err != nil {
			return nil, fmt.Errorf("no -k given and the running kernel's release is unknown: %w", err)
		}
		release = r
		fmt.Fprintf(a.status, "No kernel version given: building native patch for %s\n", release)
	}
	k, err := photon.ParseKernel(release)
	if err != nil {
		return nil, fail("Wrong kernel version detected: %s: %w", release, err)
	}
	if err := k.Livepatchable(); err != nil {
		return nil, err
	}
	j.kernel = k
	info, err := photon.Lookup(k.Release())
	if err != nil {
		return nil, err
	}
	if !info.AtomicReplace && !j.noReplace {
		j.noReplace = true
		fmt.Fprintf(a.status, "Photon %s: kernel %s has no atomic replace; building a non-replace module (-R)\n", k.Release(), info.KernelLine)
	}
	j.name = strings.TrimSuffix(o.name, ".ko")
	if j.name == "" {
		j.name = livepatch.AutoLivepatchName(o.patches[0], a.now())
	}
	if s := livepatch.SanitizeModuleName(j.name); s != j.name {
		return nil, fmt.Errorf("module name %q: use at most 55 characters from [A-Za-z0-9_-] (for example %q)", j.name, s)
	}
	j.output = o.output
	if j.output == "" {
		j.output = filepath.Join(a.root, defaultOutput)
	}
	if o.exportDebuginfo {
		j.debugDir = filepath.Join(a.root, defaultDebuginfo)
	}
	return j, nil
}

// source is where the kernel comes from.
func (a *app) source(j *job, prog *progress) *photonsource.Source {
	o := j.o
	cache, work := o.cache, o.work
	if cache == "" {
		cache = filepath.Join(a.root, defaultCache)
	}
	if work == "" {
		work = filepath.Join(a.root, defaultWork)
	}
	if o.buildAsRoot {
		prog.Warn("--build-as-root: make, the compiler and the kernel tree's scripts run as root, with the power to change this system; the tree is code from the source RPM")
	}
	return &photonsource.Source{
		Kernel: j.kernel,
		Repo: &kernelsrc.Repo{
			SourceRPMPath: o.srcRPM, DebuginfoRPMPath: o.debuginfoRPM,
			Dir: o.repoDir, BaseURLs: o.mirrors,
			CacheDir:    filepath.Join(cache, "rpms"),
			SigningKeys: j.signingKeys,
			Download:    &kernelsrc.DownloadOptions{Progress: prog.report},
		},
		Dir:           work,
		Prepare:       kernelsrc.PrepareOptions{SkipCompilerCheck: o.skipCompilerCheck},
		ModuleSymvers: o.symvers,
		Jobs:          o.jobs,
		MakeArgs:      o.makeArgs,
		Make:          a.makeProg,
		BuildUser:     o.buildUser,
		BuildAsRoot:   o.buildAsRoot,
		Toolchain:     o.toolchain,
		Progress:      prog.report,
		Warn:          prog.Warn,
	}
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
