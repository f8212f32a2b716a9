// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/kmod"
)

const patchDir = "../testdata/patches"

// labTree is the lab kernel as a build source: its prepared source tree
// for compiling, its headers for linking, Debian's vmlinux for symbols.
func labTree(t *testing.T, l *lab.Lab) *build.Tree {
	t.Helper()
	if l.SourceDir == "" {
		t.Fatal("the lab was prepared without the source tree: run `make lab` (klplab prepare --source)")
	}
	return &build.Tree{
		Release:   l.KernelRelease,
		Dir:       l.SourceDir,
		KbuildDir: l.HeadersDir,
		Config:    l.Config,
		Vmlinux:   l.Vmlinux,
		MakeArgs:  l.MakeArgs(),
	}
}

// labToolchain is where build.Run compiles for the lab kernel: the host,
// or the lab's toolchain root (5.10: bullseye's gcc-10).
func labToolchain(l *lab.Lab) build.Toolchain {
	if l.ToolchainRoot == "" {
		return build.Toolchain{}
	}
	return build.Toolchain{Mode: build.ToolchainRoot, Dir: l.ToolchainRoot}
}

// labPatch is a patch of testdata/patches for the lab kernel l: the
// variant in testdata/patches/<generation>/ when the patch's context
// differs in that kernel's source, else the patch itself.
func labPatch(l *lab.Lab, name string) string {
	if l.Generation != "" {
		v := filepath.Join(patchDir, string(l.Generation), name)
		if _, err := os.Stat(v); err == nil {
			return v
		}
	}
	return filepath.Join(patchDir, name)
}

func labMakeArgs(release string) []string { return lab.KbuildArgs(release) }

// buildPatch builds one module from patches against the lab kernel.
func buildPatch(t *testing.T, l *lab.Lab, tree *build.Tree, name string, noReplace bool, patches ...string) string {
	t.Helper()
	return buildModule(t, tree, name, vmModule{patches: patches, noReplace: noReplace, lab: l})
}

func buildModule(t *testing.T, tree *build.Tree, name string, m vmModule) string {
	t.Helper()
	patches, noReplace := m.patches, m.noReplace
	var paths []string
	for _, p := range patches {
		paths = append(paths, labPatch(m.lab, p))
	}
	out := t.TempDir()
	start := time.Now()
	res, err := build.Run(t.Context(), build.Options{
		Source:             tree,
		Patches:            paths,
		Name:               name,
		NoReplace:          noReplace,
		OutputDir:          out,
		PartialHeaderUsers: m.partialHeaders,
		CacheDir:           m.cache,
		Toolchain:          labToolchain(m.lab),
		Progress: klpkit.On(func(e build.Event) {
			t.Logf("build: %s: %s", e.Stage, e.Message)
			if m.replayLinks && e.Stage == build.StageLink && (strings.Contains(e.Message, "run make") || strings.Contains(e.Message, "linking with make")) {
				t.Errorf("the link cannot replay kbuild's commands: %s", e.Message)
			}
		}),
	})
	require.NoError(t, err)
	t.Logf("built %s in %v: %+v", res.Module, time.Since(start).Round(time.Millisecond), res.Objects)
	if m.check != nil {
		m.check(t, tree, res)
	}
	return res.Module
}

// effect is what a patch changes in the guest: the contents of a file.
type effect struct {
	file string // what to read, e.g. /proc/cmdline
	want string // a substring it shows only while the patch is live
}

func (e effect) read(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(e.file)
	require.NoError(t, err)
	return string(b)
}

func (e effect) requireLive(t *testing.T) {
	t.Helper()
	got := e.read(t)
	t.Logf("%s = %q", e.file, got)
	require.Contains(t, got, e.want, "%s while the patch is live", e.file)
}

func (e effect) requireGone(t *testing.T) {
	t.Helper()
	require.NotContains(t, e.read(t), e.want, "%s without the patch", e.file)
}

// vmModule is one livepatch module a case builds on the host.
type vmModule struct {
	patches   []string
	noReplace bool
	// partialHeaders: the lab tree is not fully built; the header case
	// builds the one user it checks first.
	partialHeaders bool
	// check, when set, asserts what the build found (on the host).
	check func(t *testing.T, tree *build.Tree, res *build.Result)
	// cache holds original objects for the modules of one case.
	cache string
	// lab is the lab kernel it is built for (its toolchain and patch
	// variants).
	lab *lab.Lab
	// replayLinks: the link must not run make but for the first of a
	// cache, which records kbuild's commands that the others replay.
	replayLinks bool
}

// vmCase is a livepatch scenario proven in the guest. The host builds
// each module (guest path /klp/<case>-<i>.ko); guest runs the scenario.
type vmCase struct {
	name    string
	modules []vmModule
	// extra builds more guest files on the host and may adjust the tree.
	extra func(t *testing.T, l *lab.Lab, tree *build.Tree) []vmtest.File
	guest func(t *testing.T, kos []string)
	// append is added to the guest kernel's command line.
	append string
	// only, when set, is the one lab generation the case runs on (why
	// says so at the case); every case else runs on each of
	// lab.Generations.
	only lab.Generation
}

func one(patch string) []vmModule { return []vmModule{{patches: []string{patch}}} }

// loadUnload is the basic scenario: effects absent, load, present,
// unload, absent again.
func loadUnload(effects ...effect) func(t *testing.T, kos []string) {
	return func(t *testing.T, kos []string) {
		for _, e := range effects {
			e.requireGone(t)
		}
		name := load(t, kos[0])
		for _, e := range effects {
			e.requireLive(t)
		}
		unload(t, name)
		for _, e := range effects {
			e.requireGone(t)
		}
	}
}

func load(t *testing.T, ko string) string {
	t.Helper()
	var sys kmod.System
	res, err := sys.Load(t.Context(), ko, nil)
	require.NoError(t, err, "load %s", ko)
	t.Logf("loaded %s (transition %v)", res.Module.Name, res.Transition)
	return res.Module.Name
}

func unload(t *testing.T, name string) {
	t.Helper()
	var sys kmod.System
	_, err := sys.Unload(t.Context(), name, nil)
	require.NoError(t, err, "unload %s", name)
	require.NoDirExists(t, "/sys/module/"+name)
}

func requireDmesg(t *testing.T, want string) {
	t.Helper()
	log, err := vmtest.Dmesg()
	require.NoError(t, err)
	require.Contains(t, log, want, "kernel log")
}

// counter returns the number after key in the contents of e's file.
func counter(t *testing.T, e effect, key string) int {
	t.Helper()
	got := e.read(t)
	i := strings.Index(got, key)
	require.GreaterOrEqual(t, i, 0, "%s lacks %q: %q", e.file, key, got)
	n, err := strconv.Atoi(strings.TrimRight(strings.Fields(got[i+len(key):])[0], "\n"))
	require.NoError(t, err)
	return n
}

var (
	cmdlineEffect = effect{"/proc/cmdline", " klpkit=cmdline-string\n"}
	versionEffect = effect{"/proc/version", "klpkit-static-data reads="}
	loadavgEffect = effect{"/proc/loadavg", " klpkit-calls="}
	uptimeEffect  = effect{"/proc/uptime", " klpkit-processes="}
	binfmtEffect  = effect{"/mnt/binfmt/status", "enabled klpkit-module\n"}
)

var vmCases = []vmCase{
	{name: "cmdline", modules: one("cmdline-string.patch"), guest: loadUnload(cmdlineEffect)},
	{name: "new-function", modules: one("meminfo-new-function.patch"),
		guest: loadUnload(effect{"/proc/meminfo", "\nKlpkitNewFunction: 1\n"})},
	// fs/proc/cmdline.o calls a new global function of fs/proc/version.o,
	// which prints a new global counter of fs/proc/cmdline.o.
	{name: "cross-object-global", modules: one("proc-cross-object-global.patch"),
		guest: loadCountsUp(effect{"/proc/cmdline", " klpkit-cross-object="}, "klpkit-cross-object=", "the new global counts in one object and shows in the other")},
	// GCC's clones move between the builds (moves_vm_test.go): the new
	// code must run, not just load. One boot, one module per move.
	// 6.1 only: the clones are the ones gcc-12 made of 6.1's functions.
	{name: "clone-moves", modules: cloneMoveModules(), guest: cloneMovesGuest, only: lab.Bookworm61},
	{name: "static-data", modules: one("version-static-data.patch"),
		guest: loadCountsUp(versionEffect, "reads=", "the new static counter counts")},
	{name: "static-local", modules: one("loadavg-static-local.patch"),
		guest: loadCountsUp(loadavgEffect, "klpkit-calls=", "the new static local counts")},
	{name: "nonexported-call", modules: one("uptime-nonexported-call.patch"), guest: func(t *testing.T, kos []string) {
		uptimeEffect.requireGone(t)
		name := load(t, kos[0])
		require.Positive(t, counter(t, uptimeEffect, "klpkit-processes="), "nr_processes() through a .klp.rela relocation")
		unload(t, name)
		uptimeEffect.requireGone(t)
	}},
	// 6.1 only: the clone and the duplicate names are 6.1's (5.10's
	// net-sysfs.c and reboot.c differ).
	{name: "clone-and-warn", modules: one("netstat-clone-warn.patch"), only: lab.Bookworm61,
		guest: loadUnload(effect{"/sys/class/net/lo/statistics/rx_bytes", " klpkit-clone\n"})},
	{name: "duplicate-name", modules: one("reboot-duplicate-name.patch"), only: lab.Bookworm61, guest: func(t *testing.T, kos []string) {
		e := effect{"/sys/kernel/reboot/mode", " klpkit-duplicate-name\n"}
		e.requireGone(t)
		name := load(t, kos[0])
		e.requireLive(t)
		// kernel/reboot.c's mode_show has the lowest address of the four.
		require.DirExists(t, "/sys/kernel/livepatch/"+name+"/vmlinux/mode_show,1")
		unload(t, name)
		e.requireGone(t)
	}},
	// The same boot livepatches an out-of-tree module (oot_vm_test.go).
	{name: "module", modules: one("binfmt-misc-module.patch"), extra: binfmtAndOOTModules, guest: func(t *testing.T, kos []string) {
		// The livepatch loads first; the module it patches later, when
		// the livepatch core applies the module's klp relocations.
		name := load(t, kos[0])
		require.NoError(t, lab.LoadModule("/klp/binfmt_misc.ko"))
		require.NoError(t, os.MkdirAll("/mnt/binfmt", 0o755))
		require.NoError(t, unix.Mount("binfmt_misc", "/mnt/binfmt", "binfmt_misc", 0, ""))
		binfmtEffect.requireLive(t)
		unload(t, name)
		binfmtEffect.requireGone(t)
		require.Equal(t, "enabled\n", binfmtEffect.read(t))
		ootGuest(t)
	}},
	{name: "callbacks", modules: one("callbacks.patch"), guest: func(t *testing.T, kos []string) {
		e := effect{"/proc/cmdline", " klpkit=callbacks\n"}
		e.requireGone(t)
		name := load(t, kos[0])
		e.requireLive(t) // post_patch set the flag the patched function reads
		requireDmesg(t, "klpkit: pre_patch callback for vmlinux")
		unload(t, name)
		e.requireGone(t)
		requireDmesg(t, "klpkit: post_unpatch callback")
	}},
	{name: "warn-once", modules: one("cmdline-warn-once.patch"), guest: func(t *testing.T, kos []string) {
		e := effect{"/proc/cmdline", " klpkit=warned\n"}
		e.requireGone(t)
		name := load(t, kos[0])
		e.requireLive(t)
		e.requireLive(t)
		// The WARN trap is only a warning if the module's __bug_table
		// entry is found; the new .data.once flag makes it fire once.
		log, err := vmtest.Dmesg()
		require.NoError(t, err)
		require.Equal(t, 1, strings.Count(log, "klpkit: warn once from cmdline"), "kernel log:\n%s", log)
		require.Contains(t, log, "fs/proc/cmdline.c")
		unload(t, name)
		e.requireGone(t)
	}},
	// 6.1 only: 5.10 has no delayacct_key (delay accounting's static key).
	{name: "jump-label", modules: one("uptime-jump-label.patch"), only: lab.Bookworm61,
		guest: loadUnload(effect{"/proc/uptime", "\nklpkit-jump-label=off\n"})},
	// With delay accounting on at boot, the branch only shows "on" if the
	// module's __jump_table entry found the key through its klp relocation.
	{name: "jump-label-on", modules: one("uptime-jump-label.patch"), append: "delayacct", only: lab.Bookworm61,
		guest: loadUnload(effect{"/proc/uptime", "\nklpkit-jump-label=on\n"})},
	{name: "header", modules: []vmModule{{patches: []string{"header-inline.patch"}, partialHeaders: true}}, extra: builtUptime, guest: func(t *testing.T, kos []string) {
		e := effect{"/proc/uptime", ""}
		uptime := func() float64 {
			f, err := strconv.ParseFloat(strings.Fields(e.read(t))[0], 64)
			require.NoError(t, err)
			return f
		}
		require.Less(t, uptime(), 100000.0)
		name := load(t, kos[0])
		require.GreaterOrEqual(t, uptime(), 100000.0, "the inlined header change is live in uptime_proc_show")
		unload(t, name)
		require.Less(t, uptime(), 100000.0)
	}},
	{name: "combined", modules: []vmModule{{patches: []string{"cmdline-string.patch", "version-static-data.patch"}}},
		guest: loadUnload(cmdlineEffect, versionEffect)},
	{name: "replace", modules: append(one("cmdline-string.patch"), one("uptime-nonexported-call.patch")...), guest: func(t *testing.T, kos []string) {
		first := load(t, kos[0])
		cmdlineEffect.requireLive(t)
		second := load(t, kos[1])
		uptimeEffect.requireLive(t)
		cmdlineEffect.requireGone(t) // replaced atomically
		require.NoDirExists(t, "/sys/kernel/livepatch/"+first)
		unload(t, first) // replaced: removed without a disable
		unload(t, second)
		uptimeEffect.requireGone(t)
	}},
	{name: "stack", modules: []vmModule{{patches: []string{"cmdline-string.patch"}}, {patches: []string{"loadavg-static-local.patch"}, noReplace: true}},
		guest: func(t *testing.T, kos []string) {
			first := load(t, kos[0])
			second := load(t, kos[1])
			cmdlineEffect.requireLive(t) // -R: both stay live
			loadavgEffect.requireLive(t)
			unload(t, second)
			loadavgEffect.requireGone(t)
			cmdlineEffect.requireLive(t)
			unload(t, first)
			cmdlineEffect.requireGone(t)
		}},
}

// builtUptime makes sure kbuild has recorded fs/proc/uptime.o, a user of
// the header the header case changes: header users are found through
// those records.
func builtUptime(t *testing.T, l *lab.Lab, tree *build.Tree) []vmtest.File {
	buildPatch(t, l, tree, "", false, "uptime-nonexported-call.patch")
	return nil
}

// binfmtModule builds binfmt_misc.ko (a module of the lab kernel's config)
// from the lab source for the guest, and lets the build read its symbols.
func binfmtModule(t *testing.T, l *lab.Lab, tree *build.Tree) []vmtest.File {
	src := t.TempDir()
	for _, f := range []string{"fs/binfmt_misc.c", "fs/internal.h"} {
		data, err := os.ReadFile(filepath.Join(l.SourceDir, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(src, filepath.Base(f)), data, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(src, "Kbuild"), []byte("obj-m := binfmt_misc.o\n"), 0o644))
	out := t.TempDir()
	kos, err := l.BuildModule(t.Context(), src, out, nil)
	require.NoError(t, err)
	tree.ModulesDir = out
	return []vmtest.File{{Guest: "/klp/binfmt_misc.ko", Host: kos[0]}}
}

// TestPatchesInVM builds the patches of testdata/patches that must work,
// loads the modules in the lab VM with package kmod, and checks their
// effects before, during and after: on 6.1, one boot per case; the 5.10
// runs of the same cases are TestRunOn510InVM's one boot.
func TestPatchesInVM(t *testing.T) {
	for _, c := range casesOn(lab.Bookworm61, vmCases) {
		t.Run(c.name, func(t *testing.T) {
			var kos []string
			for i := range c.modules {
				kos = append(kos, fmt.Sprintf("/klp/%s-%d.ko", c.name, i))
			}
			vmtest.Run(t, vmtest.Config{
				Timeout: 3 * time.Minute,
				Append:  c.append,
				Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
					tree := labTree(t, l)
					var files []vmtest.File
					if c.extra != nil {
						files = c.extra(t, l, tree)
					}
					cache := t.TempDir() // a case's modules share original objects
					for i, m := range c.modules {
						m.cache, m.lab = cache, l
						name := fmt.Sprintf("klpkit-%s-%d", c.name, i)
						files = append(files, vmtest.File{Guest: kos[i], Host: buildModule(t, tree, name, m)})
					}
					return files
				},
			}, func(t *testing.T) { c.guest(t, kos) })
		})
	}
}

// refusalCase is a patch the pipeline must refuse, and why.
type refusalCase struct {
	patch string
	is    error  // the sentinel the error matches
	says  string // a phrase of the message
	rule  string // the rule's tag, the same on every kernel
}

var refusalCases = []refusalCase{
	{"refuse-init-change.patch", build.ErrUnsupportedPatch, "__init", "init-code"},
	{"refuse-data-layout.patch", build.ErrUnsupportedPatch, "kcore_need_update", "data-changed"},
	// 5.10: testdata/patches/5.10's variant (memset_64.S's context).
	{"refuse-assembly.patch", build.ErrUnsupportedPatch, "assembly", "asm-file"},
	// touch_softlockup_watchdog is notrace in 5.10 too.
	{"refuse-notrace.patch", build.ErrUnsupportedPatch, "notrace", "inline-notrace"},
}

// TestRefusedPatches checks that patches a livepatch cannot carry are
// refused with an error naming the rule, on every lab kernel generation
// (5.10 in its toolchain root): the refusals read the patch and the
// source, so no VM.
func TestRefusedPatches(t *testing.T) {
	onEachLab(t, func(t *testing.T, l *lab.Lab) {
		for _, c := range refusalCases {
			t.Run(strings.TrimSuffix(c.patch, ".patch"), func(t *testing.T) {
				out, debug := t.TempDir(), t.TempDir()
				_, err := build.Run(t.Context(), build.Options{
					Source: labTree(t, l), Patches: []string{labPatch(l, c.patch)}, OutputDir: out, DebugDir: debug,
					Toolchain: labToolchain(l),
				})
				require.Error(t, err)
				t.Logf("refused: %v", err)
				require.True(t, errors.Is(err, c.is), "error %v does not match %v", err, c.is)
				require.Contains(t, err.Error(), c.says)
				require.Contains(t, err.Error(), "["+c.rule+"]")
				entries, _ := os.ReadDir(out)
				require.Empty(t, entries, "no module written")
				log, err := os.ReadFile(filepath.Join(debug, "build.log"))
				require.NoError(t, err, "the debug export explains the failure")
				require.Contains(t, string(log), "error: ")
			})
		}
	})
}

// loadCountsUp loads the module, checks that the counter the patch prints
// after key goes up by one between two reads, and unloads.
func loadCountsUp(e effect, key, why string) func(t *testing.T, kos []string) {
	return func(t *testing.T, kos []string) {
		e.requireGone(t)
		name := load(t, kos[0])
		first := counter(t, e, key)
		require.Equal(t, first+1, counter(t, e, key), why)
		unload(t, name)
		e.requireGone(t)
	}
}
