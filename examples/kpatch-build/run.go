// SPDX-License-Identifier: Apache-2.0

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
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/clijson"
	"github.com/klpkit/klpkit/internal/cliprogress"
	klpversion "github.com/klpkit/klpkit/internal/version"
	"github.com/klpkit/klpkit/kmod/modsign"
)

// version is the kpatch-build version whose interface this command follows.
const version = "0.9.8 (klpkit)"

const usageText = `usage: kpatch-build [options] <patch1 ... patchN>
		patchN             Input patchfile(s)
Options:
   -h, --help              Show this help message
   -s, --sourcedir DIR     Prepared kernel source tree (make prepare done)
   -c, --config FILE       Kernel .config (default: <sourcedir>/.config)
   -v, --vmlinux FILE      Original vmlinux with symbols (default:
                           <sourcedir>/vmlinux when it exists)
       --system-map FILE   System.map of the kernel, when there is no vmlinux
   -a, --archversion VER   Target kernel release (uname -r); default: from
                           the vmlinux banner or the tree
   -r, --sourcerpm SRPM    Not supported: give a prepared tree with -s (for
                           Photon kernels, auto_livepatch -s SRPM)
   -t, --target TARGET     Not supported: only the objects the patches touch
                           are compiled, never whole make targets
   -j, --jobs N            Objects compiled at once (default: CPU count)
   -n, --name NAME         Module name (default: livepatch-<patch name>)
   -o, --output DIR        Output directory (default: current directory)
   -R, --non-replace       Build a module that stacks on earlier livepatches
                           instead of replacing them (required for kernels
                           before 5.1, such as Photon 3.0's 4.19)
   -d, --debug             Keep the temporary directory and log every step
                           (may be repeated, as kpatch-build's debug levels)
   -D, --description FILE  Module description (MODULE_DESCRIPTION) from FILE
       --skip-cleanup      Keep the temporary directory
       --skip-compiler-check
                           Skip the compiler version check (not recommended)
       --toolchain MODE    Where the compiler, binutils and make come from:
                           auto (default) builds on this host when its
                           compiler is the kernel's, else in a toolchain
                           root with the kernel's compiler, fetched from
                           the kernel's distribution (Debian kernels; needs
                           root); host always uses this host's; DIR uses
                           the toolchain root DIR
       --build-user USER   Who runs make, the compiler and the tree's scripts
                           when kpatch-build runs as root (name, uid,
                           name:group or uid:gid; default: the tree's owner,
                           nobody for a tree root owns): only loading a
                           module needs root
       --build-as-root     Run them as root instead (with a warning)
       --kbuild DIR        Tree the module links against (e.g.
                           /lib/modules/<release>/build; default: sourcedir)
       --symvers FILE      Module.symvers (default: <kbuild>/Module.symvers)
       --modules-dir DIR   Where the kernel's modules are, for patches to
                           modules (e.g. /lib/modules/<release>)
       --make-arg VAR=VAL  Variable for every make run (repeatable), e.g.
                           CC=gcc-12
       --cache DIR         Cache of original objects (default: $CACHEDIR,
                           else ~/.kpatch; "none" disables it)
       --export-debug DIR  Write objects, module source and log to DIR
       --partial-header-users
                           For a changed header in a tree not fully built,
                           patch only the objects already built there (by
                           default refused: the others would keep the old
                           code)
       --fuzz N            Let up to N context lines at each end of a hunk
                           differ, as patch -F N (default 0: exact context);
                           every hunk placed with fuzz or an offset is
                           printed
       --oot-module FILE   Livepatch this out-of-tree module (its built .ko,
                           as it runs) instead of the kernel; needs
                           --oot-module-src
       --oot-module-src DIR
                           The out-of-tree module's source: the patches
                           apply to it, and it is built with kbuild M=
                           against the kernel tree (--kbuild)
` + signUsage + `       --json              Print the result as one JSON object on stdout
                           (status lines go to stderr)
       --json-events       Progress as JSON lines on stderr, not text
       --version           Show the version
`

// replaceHint follows kpatch-build's refusal of a replace module for a
// kernel before 5.1 (Photon 3.0's 4.19 and other 4.x kernels).
const replaceHint = "Atomic replace needs Linux 5.1 or later: build with -R (--non-replace) for a module that stacks on the livepatches already loaded."

// errHelp: help was asked for; exit 0.
var errHelp = errors.New("help")

// options are the parsed command line.
type options struct {
	sourceDir, config, vmlinux, systemMap, release string
	jobs, fuzz                                     int
	name, outputDir, descriptionFile               string
	nonReplace, skipCleanup, skipCC                bool
	buildUser                                      string
	buildAsRoot                                    bool
	toolchain                                      string
	debug                                          int // -d count
	sourceRPM, ootModule, ootModuleSrc             string
	targets                                        []string
	json, jsonEvents                               bool
	partialHeaderUsers                             bool
	kbuildDir, symvers, modulesDir, cacheDir       string
	exportDebug                                    string
	makeArgs                                       []string
	showVersion                                    bool
	patches                                        []string
	sign                                           modsign.FileOptions
}

// app is the command with what tests replace.
type app struct {
	stdout, stderr io.Writer
	// build is build.Run.
	build func(context.Context, build.Options) (*build.Result, error)
	// getenv reads the environment (CACHEDIR, HOME).
	getenv func(string) string
	// terminal says whether stderr is a terminal (progress bar).
	terminal bool
	// now is the clock of --json's timings and --json-events.
	now func() time.Time

	// status receives the status lines: stdout, or stderr with --json.
	status io.Writer
	// clock times the stages for --json; nil without it.
	clock *clijson.Clock
	// finish ends the progress display.
	finish func()
}

// run is the command: args without the program name. It prints failures as
// "ERROR: ..." on stderr and returns them; main exits 1.
func run(args []string, stdout, stderr io.Writer) error {
	a := &app{stdout: stdout, stderr: stderr, build: build.Run, getenv: os.Getenv, terminal: cliprogress.IsTerminal(stderr), now: time.Now}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return a.run(ctx, args)
}

func (a *app) run(ctx context.Context, args []string) error {
	err := a.main(ctx, args)
	switch {
	case errors.Is(err, errHelp):
		return nil
	case errors.Is(err, build.ErrReplaceUnsupported):
		// kpatch-build's words for a kernel before 5.1, then what to do.
		fmt.Fprintf(a.stderr, "ERROR: The kernel doesn't support klp replace.\n%s\n", replaceHint)
	case err != nil:
		fmt.Fprintf(a.stderr, "ERROR: %s.\n", strings.TrimSuffix(err.Error(), "."))
	}
	return err
}

func (a *app) main(ctx context.Context, args []string) (err error) {
	if a.now == nil {
		a.now = time.Now
	}
	// With --json, stdout holds the JSON object only, even for a command
	// line parse refuses: the status lines go to stderr.
	a.status = a.stdout
	var jres *clijson.Result
	if clijson.Requested(args) {
		a.status = a.stderr
		jres = clijson.NewResult()
		clock := clijson.NewClock(a.now)
		a.clock = clock
		defer func() {
			if !errors.Is(err, errHelp) {
				jres.End(clock, &err, a.stdout)
			}
		}()
	}
	o, err := parse(args, a.stderr)
	if err != nil {
		return err
	}
	if o.showVersion {
		fmt.Fprintln(a.stdout, version)
		fmt.Fprintln(a.stdout, klpversion.Line())
		return errHelp // printed; exit 0
	}
	bo, err := a.buildOptions(o)
	if err != nil {
		return err
	}
	if jres != nil {
		jres.Kernel = bo.Source.(*build.Tree).Release
	}
	bo.Progress = a.progress(o)
	res, err := a.build(ctx, bo)
	a.finish()
	if err != nil {
		if bo.KeepWork && bo.WorkDir != "" {
			fmt.Fprintf(a.stderr, "temporary files kept in %s\n", bo.WorkDir)
		}
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(a.stderr, "WARNING: %s\n", w)
	}
	var targets []string
	for _, obj := range res.Objects {
		if len(obj.Changed)+len(obj.New) > 0 && !contains(targets, obj.Target) {
			targets = append(targets, obj.Target)
		}
	}
	fmt.Fprintf(a.status, "Patched objects: %s\n", strings.Join(targets, " "))
	if bo.KeepWork {
		fmt.Fprintf(a.status, "Temporary files kept in %s\n", bo.WorkDir)
	}
	fmt.Fprintln(a.status, "SUCCESS")
	fmt.Fprintf(a.status, "%s\n", res.Module)
	if jres != nil {
		return jres.AddBuild(res)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parse reads the command line. Patches are the positional arguments,
// anywhere among the options (pflag's interspersed parsing).
func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := pflag.NewFlagSet("kpatch-build", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.SortFlags = false
	fs.StringVarP(&o.sourceDir, "sourcedir", "s", "", "")
	fs.StringVarP(&o.config, "config", "c", "", "")
	fs.StringVarP(&o.vmlinux, "vmlinux", "v", "", "")
	fs.StringVar(&o.systemMap, "system-map", "", "")
	fs.StringVarP(&o.release, "archversion", "a", "", "")
	fs.IntVarP(&o.jobs, "jobs", "j", 0, "")
	fs.StringVarP(&o.name, "name", "n", "", "")
	fs.StringVarP(&o.outputDir, "output", "o", "", "")
	fs.BoolVarP(&o.nonReplace, "non-replace", "R", false, "")
	// -D is Photon's patch to kpatch-build; -d is upstream's debug.
	fs.StringVarP(&o.descriptionFile, "description", "D", "", "")
	fs.CountVarP(&o.debug, "debug", "d", "")
	fs.StringVarP(&o.sourceRPM, "sourcerpm", "r", "", "")
	fs.StringArrayVarP(&o.targets, "target", "t", nil, "")
	fs.StringVar(&o.ootModule, "oot-module", "", "")
	fs.StringVarP(&o.ootModule, "oot-module-e", "e", "", "") // its old spelling
	_ = fs.MarkHidden("oot-module-e")
	fs.StringVar(&o.ootModuleSrc, "oot-module-src", "", "")
	fs.BoolVar(&o.json, "json", false, "")
	fs.BoolVar(&o.jsonEvents, "json-events", false, "")
	fs.BoolVar(&o.skipCleanup, "skip-cleanup", false, "")
	fs.BoolVar(&o.skipCC, "skip-compiler-check", false, "")
	fs.BoolVar(&o.skipCC, "skip-gcc-check", false, "")
	fs.StringVar(&o.buildUser, "build-user", "", "")
	fs.BoolVar(&o.buildAsRoot, "build-as-root", false, "")
	fs.StringVar(&o.toolchain, "toolchain", "auto", "")
	_ = fs.MarkHidden("skip-gcc-check")
	fs.StringVar(&o.kbuildDir, "kbuild", "", "")
	fs.StringVar(&o.symvers, "symvers", "", "")
	fs.StringVar(&o.modulesDir, "modules-dir", "", "")
	fs.StringArrayVar(&o.makeArgs, "make-arg", nil, "")
	fs.StringVar(&o.cacheDir, "cache", "", "")
	fs.StringVar(&o.exportDebug, "export-debug", "", "")
	fs.BoolVar(&o.partialHeaderUsers, "partial-header-users", false, "")
	fs.IntVar(&o.fuzz, "fuzz", 0, "")
	fs.StringVar(&o.sign.Key, "sign-key", "", "")
	fs.StringVar(&o.sign.Cert, "sign-cert", "", "")
	fs.StringVar(&o.sign.Hash, "sign-hash", "", "")
	fs.BoolVar(&o.showVersion, "version", false, "")
	help := fs.BoolP("help", "h", false, "")
	if err := fs.Parse(args); err != nil {
		fmt.Fprint(stderr, usageText)
		return nil, err
	}
	if *help {
		fmt.Fprint(stderr, usageText)
		return nil, errHelp
	}
	o.patches = fs.Args()
	if o.showVersion {
		return o, nil
	}
	if len(o.patches) == 0 {
		fmt.Fprint(stderr, usageText)
		return nil, errors.New("no patch file(s) specified")
	}
	if err := o.unsupported(); err != nil {
		return nil, err
	}
	if o.sourceDir == "" {
		return nil, errors.New("a kernel source tree is required (-s DIR); source RPMs: use auto_livepatch")
	}
	if o.jobs < 0 {
		return nil, fmt.Errorf("-j %d: the job count must be positive", o.jobs)
	}
	if o.fuzz < 0 {
		return nil, fmt.Errorf("--fuzz %d: the fuzz must be 0 or more", o.fuzz)
	}
	for _, m := range o.makeArgs {
		if k, _, ok := strings.Cut(m, "="); !ok || k == "" {
			return nil, fmt.Errorf("--make-arg %q: want VAR=VALUE", m)
		}
	}
	if err := o.sign.Validate(); err != nil {
		return nil, signOptionsErr(err)
	}
	if o.buildUser != "" && o.buildAsRoot {
		return nil, errors.New("--build-user and --build-as-root contradict each other")
	}
	if err := o.checkOOT(); err != nil {
		return nil, err
	}
	return o, nil
}

// buildOptions checks the files the options name and turns them into
// build.Options.
func (a *app) buildOptions(o *options) (build.Options, error) {
	var bo build.Options
	for _, p := range o.patches {
		if err := regularFile(p); err != nil {
			return bo, fmt.Errorf("patch file %s: %w", p, err)
		}
	}
	if fi, err := os.Stat(o.sourceDir); err != nil || !fi.IsDir() {
		return bo, fmt.Errorf("kernel source directory %s not found", o.sourceDir)
	}
	tree := &build.Tree{
		Dir: o.sourceDir, KbuildDir: o.kbuildDir, Config: o.config,
		Vmlinux: o.vmlinux, SystemMap: o.systemMap,
		ModuleSymvers: o.symvers, ModulesDir: o.modulesDir, MakeArgs: o.makeArgs,
	}
	if tree.Config == "" {
		tree.Config = filepath.Join(o.sourceDir, ".config")
	}
	if tree.Vmlinux == "" && tree.SystemMap == "" {
		tree.Vmlinux = filepath.Join(o.sourceDir, "vmlinux")
	}
	for _, f := range []struct{ what, path string }{
		{"config file", tree.Config}, {"vmlinux", tree.Vmlinux}, {"System.map", tree.SystemMap}, {"Module.symvers", tree.ModuleSymvers},
	} {
		if f.path == "" {
			continue
		}
		if err := regularFile(f.path); err != nil {
			return bo, fmt.Errorf("%s %s: %w", f.what, f.path, err)
		}
	}
	rel, err := targetRelease(o.release, tree.Vmlinux, o.sourceDir)
	if err != nil {
		return bo, err
	}
	tree.Release = rel
	fmt.Fprintf(a.status, "Using source directory at %s\n", o.sourceDir)
	fmt.Fprintf(a.status, "Kernel release %s\n", rel)

	outputDir := o.outputDir
	if outputDir == "" {
		// kpatch-build's default; the library has none.
		if outputDir, err = os.Getwd(); err != nil {
			return bo, fmt.Errorf("output directory: %w", err)
		}
	}
	bo = build.Options{
		Source: tree, Patches: o.patches, Name: o.name, OutputDir: outputDir,
		NoReplace: o.nonReplace, Jobs: o.jobs, SkipCompilerCheck: o.skipCC,
		PartialHeaderUsers: o.partialHeaderUsers, Fuzz: o.fuzz,
		KeepWork: o.debug > 0 || o.skipCleanup, DebugDir: o.exportDebug,
		CacheDir: a.cacheDir(o.cacheDir), BuildAsRoot: o.buildAsRoot,
	}
	if bo.OOTModule, err = a.ootModule(o); err != nil {
		return bo, err
	}
	if bo.Toolchain, err = build.ParseToolchain(o.toolchain); err != nil {
		return bo, err
	}
	if o.buildUser != "" {
		if bo.BuildUser, err = build.LookupBuildUser(o.buildUser); err != nil {
			return bo, fmt.Errorf("--build-user: %w", err)
		}
	}
	if o.buildAsRoot && os.Geteuid() == 0 {
		fmt.Fprintln(a.stderr, "WARNING: --build-as-root: make, the compiler and the tree's scripts run as root, with the power to change this system")
	}
	signer, err := o.sign.Signer()
	if err != nil {
		return bo, signOptionsErr(err)
	}
	if signer != nil {
		bo.Signer = signer
		fmt.Fprintf(a.status, "Signing with %s\n", signer)
	}
	if o.descriptionFile != "" {
		data, err := os.ReadFile(o.descriptionFile)
		if err != nil {
			return bo, fmt.Errorf("description file %s not found", o.descriptionFile)
		}
		bo.Description = strings.TrimSpace(string(data))
	}
	if bo.KeepWork {
		// A directory of our own, so it can be named when kept.
		bo.WorkDir, err = os.MkdirTemp("", "kpatch-build-")
		if err != nil {
			return bo, err
		}
	}
	if o.debug > 0 {
		bo.Logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return bo, nil
}

// cacheDir is --cache, else $CACHEDIR, else ~/.kpatch (kpatch-build's);
// "none" disables the cache.
func (a *app) cacheDir(flag string) string {
	switch {
	case flag == "none":
		return ""
	case flag != "":
		return flag
	case a.getenv("CACHEDIR") != "":
		return a.getenv("CACHEDIR")
	case a.getenv("HOME") != "":
		return filepath.Join(a.getenv("HOME"), ".kpatch")
	}
	return ""
}

// regularFile says why path is not a readable regular file.
func regularFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("not found")
		}
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	return nil
}
