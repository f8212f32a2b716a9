// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/klpkit/klpkit/kmod"
	"github.com/spf13/pflag"
)

// flags are the options shared by the subcommands that use them.
type flags struct {
	fs      *pflag.FlagSet
	all     bool
	kver    string
	store   string
	timeout time.Duration
	json    bool
	// load only
	retireOlder, allowWindow bool
	// info only
	certs []string
}

func (a *app) parse(name string, args []string, setup func(*flags)) (*flags, []string, error) {
	f := &flags{fs: pflag.NewFlagSet(name, pflag.ContinueOnError)}
	f.fs.SetOutput(a.stderr)
	f.fs.Usage = func() {}
	setup(f)
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil, nil, a.usage()
		}
		fmt.Fprintf(a.stderr, "kpatch: %v\n", err)
		return nil, nil, a.usage()
	}
	switch f.store {
	case "", "photon":
		a.sys.Store = kmod.StorePhoton
	case "upstream":
		a.sys.Store = kmod.StoreUpstream
	default:
		return nil, nil, fmt.Errorf("--store %q: want photon or upstream", f.store)
	}
	return f, f.fs.Args(), nil
}

func storeFlags(f *flags) {
	f.fs.StringVar(&f.store, "store", "", "install store: photon or upstream")
}

func waitFlags(f *flags) {
	storeFlags(f)
	f.fs.BoolVarP(&f.all, "all", "a", false, "every module")
	f.fs.DurationVar(&f.timeout, "timeout", 0, "transition timeout")
}

func (a *app) timingFor(f *flags) kmod.Timing {
	var t kmod.Timing
	if a.timing != nil {
		t = *a.timing
	}
	if f.timeout > 0 {
		t.TransitionTimeout = f.timeout
	}
	return t.WithDefaults()
}

func loadFlags(f *flags) {
	waitFlags(f)
	f.fs.BoolVar(&f.retireOlder, "retire-older", false, "unload the other patch modules once this one is live")
	f.fs.BoolVar(&f.allowWindow, "allow-unpatched-window", false, "before 5.1, let --retire-older take this patch down for a moment")
}

func (a *app) load(ctx context.Context, args []string) error {
	f, rest, err := a.parse("load", args, loadFlags)
	if err != nil {
		return err
	}
	if f.allowWindow && !f.retireOlder {
		return fmt.Errorf("--allow-unpatched-window goes with --retire-older")
	}
	if f.retireOlder && f.all {
		// Each load would retire the ones before it: only the last stays.
		return fmt.Errorf("--retire-older goes with one module, not --all")
	}
	if err := a.requirePrivileges("load"); err != nil {
		return err
	}
	t := a.timingFor(f)
	opts := &kmod.LoadOptions{Timing: &t, Progress: a.progress(t), RetireOlder: f.retireOlder, AllowUnpatchedWindow: f.allowWindow}
	if f.all {
		if len(rest) != 0 {
			return a.usage()
		}
		return a.loadAll(ctx, opts)
	}
	if len(rest) != 1 {
		return a.usage()
	}
	path, err := a.findModule(rest[0])
	if err != nil {
		return err
	}
	if _, err := a.sys.Load(ctx, path, opts); err != nil {
		return fmt.Errorf("failed to load module %s: %w", rest[0], withNext(err, rest[0]))
	}
	return nil
}

// loadAll loads every module installed for the running kernel. One failure
// does not stop the others; the summary names those that failed.
func (a *app) loadAll(ctx context.Context, opts *kmod.LoadOptions) error {
	if cmdline, err := os.ReadFile(filepath.Join(orDefault(a.sys.ProcRoot, "/proc"), "cmdline")); err == nil {
		for _, w := range strings.Fields(string(cmdline)) {
			if w == "kpatch.enable=0" {
				fmt.Fprintln(a.stdout, "kpatch.enable=0 on the kernel command line: not loading patch modules")
				return nil
			}
		}
	}
	rel, err := a.sys.Release()
	if err != nil {
		return fmt.Errorf("kernel release: %w", err)
	}
	inst, err := a.sys.Installed(rel)
	if err != nil {
		return err
	}
	kmod.SortForBoot(inst)
	var failed []string
	for _, in := range inst {
		if _, err := a.sys.Load(ctx, in.Path, opts); err != nil {
			if errors.Is(err, kmod.ErrAlreadyLoaded) {
				fmt.Fprintf(a.stdout, "module %s already loaded\n", in.Name)
				continue
			}
			fmt.Fprintf(a.stderr, "kpatch: failed to load module %s: %v\n", in.Name, err)
			failed = append(failed, in.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d patch modules failed to load: %s", len(failed), len(inst), strings.Join(failed, ", "))
	}
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// findModule resolves a load argument as kpatch does: a name with ".ko" is
// a path or a file in the store; any other name is an installed module in
// either spelling.
func (a *app) findModule(arg string) (string, error) {
	if strings.Contains(arg, ".ko") {
		if _, err := os.Stat(arg); err == nil {
			return arg, nil
		}
		if strings.ContainsRune(arg, '/') {
			return "", fmt.Errorf("module %s not found", arg)
		}
	}
	rel, err := a.sys.Release()
	if err != nil {
		return "", fmt.Errorf("kernel release: %w", err)
	}
	found, err := a.sys.FindInstalled(arg, rel)
	if err != nil {
		return "", fmt.Errorf("module %s not found", arg)
	}
	return found[0].Path, nil
}

func (a *app) unload(ctx context.Context, args []string) error {
	f, rest, err := a.parse("unload", args, waitFlags)
	if err != nil {
		return err
	}
	if err := a.requirePrivileges("unload"); err != nil {
		return err
	}
	t := a.timingFor(f)
	opts := &kmod.UnloadOptions{Timing: &t, Progress: a.progress(t)}
	if f.all {
		if len(rest) != 0 {
			return a.usage()
		}
		if _, err := a.sys.UnloadAll(ctx, opts); err != nil {
			return fmt.Errorf("failed to unload all patch modules: %w", err)
		}
		return nil
	}
	if len(rest) != 1 {
		return a.usage()
	}
	if _, err := a.sys.Unload(ctx, rest[0], opts); err != nil {
		return fmt.Errorf("failed to unload module %s: %w", rest[0], withNext(err, rest[0]))
	}
	return nil
}

func kverFlags(f *flags) {
	storeFlags(f)
	f.fs.StringVarP(&f.kver, "kernel-version", "k", "", "kernel version")
}

func (a *app) install(args []string) error {
	f, rest, err := a.parse("install", args, kverFlags)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return a.usage()
	}
	if err := a.requirePrivileges("install"); err != nil {
		return err
	}
	kver := f.kver
	if kver == "" {
		if kver, err = a.sys.Release(); err != nil {
			return fmt.Errorf("kernel release: %w", err)
		}
	}
	fmt.Fprintf(a.stdout, "installing %s (%s)\n", rest[0], kver)
	if _, err := a.sys.Install(rest[0], &kmod.InstallOptions{KernelVersion: kver}); err != nil {
		return err
	}
	if a.enableUnit != nil {
		if err := a.enableUnit(); err != nil {
			fmt.Fprintf(a.stderr, "kpatch: warning: %v\n", err)
		}
	}
	a.refreshIndex(kver)
	return nil
}

// refreshIndex runs the depmod hook, warning on failure: the store is
// already right, only modinfo's view is stale.
func (a *app) refreshIndex(kver string) {
	if a.depmod == nil || a.sys.Store != kmod.StorePhoton {
		return
	}
	if err := a.depmod(kver); err != nil {
		fmt.Fprintf(a.stderr, "kpatch: warning: %v\n", err)
	}
}

func (a *app) uninstall(args []string) error {
	f, rest, err := a.parse("uninstall", args, kverFlags)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return a.usage()
	}
	if strings.ContainsRune(rest[0], '/') {
		return fmt.Errorf("uninstall: give the module name, not a path: %s", rest[0])
	}
	if err := a.requirePrivileges("uninstall"); err != nil {
		return err
	}
	kver := f.kver
	if kver == "" {
		if kver, err = a.sys.Release(); err != nil {
			return fmt.Errorf("kernel release: %w", err)
		}
	}
	fmt.Fprintf(a.stdout, "uninstalling %s (%s)\n", rest[0], kver)
	// Every copy goes, in both stores: one left behind would load at boot.
	removed, err := a.sys.Uninstall(rest[0], kver)
	photon := false
	for _, r := range removed {
		fmt.Fprintf(a.stdout, "removed %s (%s store)\n", r.Path, r.Layout)
		photon = photon || r.Layout == kmod.StorePhoton
	}
	if photon && a.depmod != nil {
		if derr := a.depmod(kver); derr != nil {
			fmt.Fprintf(a.stderr, "kpatch: warning: %v\n", derr)
		}
	}
	return err
}

func infoFlags(f *flags) {
	f.fs.StringArrayVar(&f.certs, "cert", nil, "verify the signature against this certificate")
}

func (a *app) info(args []string) error {
	f, args, err := a.parse("info", args, infoFlags)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return a.usage()
	}
	m, err := a.sys.Info(args[0])
	if errors.Is(err, kmod.ErrNotInstalled) || errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("module %s not found: %w", args[0], err)
	}
	if err != nil {
		return err // names the file and what is wrong with it
	}
	w := a.stdout
	fmt.Fprintf(w, "Patch information for %s:\n", args[0])
	field := func(k, v string) { fmt.Fprintf(w, "%-16s%s\n", k+":", v) }
	field("filename", m.Path)
	for _, fl := range m.Info.Fields {
		field(fl.Key, fl.Value)
	}
	field("module name", m.Name)
	field("signed", map[bool]string{false: "no", true: "yes"}[m.Signed])
	field("compression", m.Compression.String())
	return signatureFields(field, m, f.certs)
}

func (a *app) signal(args []string) error {
	if len(args) != 0 {
		return a.usage()
	}
	if err := a.requirePrivileges("signal"); err != nil {
		return err
	}
	// kpatch's messages: nothing when no patch is in transition.
	_, err := a.sys.Signal()
	switch {
	case errors.Is(err, kmod.ErrNotInTransition):
		return nil
	case errors.Is(err, kmod.ErrUnsupported):
		fmt.Fprintln(a.stderr, "kpatch: Livepatch process signaling is performed automatically on your system.")
		fmt.Fprintln(a.stderr, "kpatch: Skipping manual process signaling.")
		return nil
	case err != nil:
		return err
	}
	fmt.Fprintln(a.stdout, "signaling stalled process(es):")
	return nil
}

func (a *app) force(args []string) error {
	if len(args) > 1 {
		return a.usage()
	}
	if err := a.requirePrivileges("force"); err != nil {
		return err
	}
	name := ""
	if len(args) == 1 {
		name = args[0]
	}
	fmt.Fprintln(a.stderr, "kpatch: WARNING: forcing the transition leaves the patch module in the kernel for good: it can never be removed. Plan a reboot.")
	p, err := a.sys.Force(name)
	if errors.Is(err, kmod.ErrNotInTransition) {
		return errors.New("no patch module in transition")
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "forced patch module %s to complete its transition\n", p)
	return nil
}

// withNext adds to a cancelled load, unload or retire the command to run
// next, chosen from the error's fields.
func withNext(err error, arg string) error {
	var ce *kmod.CancelledError
	if !errors.As(err, &ce) || ce.Next == "" {
		return err
	}
	next := "kpatch list"
	switch {
	case ce.Op == "retire" && len(ce.Left) > 0:
		next = "kpatch unload " + strings.Join(ce.Left, ", then kpatch unload ")
	case ce.Op == "unload":
		next = "kpatch unload " + ce.Module
	case ce.Op == "load" && !ce.Loaded:
		next = "kpatch load " + arg
	}
	return fmt.Errorf("%w (next: %s)", err, next)
}
