// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// macroCases prove the kpatch-macros.h / kpatch-syscall.h macros: each
// patch includes the header exactly as a kpatch patch does.
var macroCases = []vmCase{
	{name: "macros-callbacks-shadow", modules: one("macros-callbacks-shadow.patch"), guest: func(t *testing.T, kos []string) {
		e := effect{"/proc/version", "klpkit-shadow reads="}
		e.requireGone(t)
		name := load(t, kos[0])
		requireDmesg(t, "klpkit-macros: pre_patch for vmlinux")
		// post_patch attached the counter at 41; each read increments it.
		require.Equal(t, 42, counter(t, e, "reads="))
		require.Equal(t, 43, counter(t, e, "reads="))
		unload(t, name)
		e.requireGone(t)
		requireDmesg(t, "klpkit-macros: pre_unpatch, shadow reads=43")
		requireDmesg(t, "klpkit-macros: post_unpatch, shadow freed")
	}},
	{name: "macros-load-hooks", modules: one("loadavg-load-hooks.patch"), guest: func(t *testing.T, kos []string) {
		e := effect{"/proc/loadavg", "\nklpkit-hooks=loaded\n"}
		e.requireGone(t)
		name := load(t, kos[0])
		e.requireLive(t) // the load hook ran after patching
		requireDmesg(t, "klpkit-hooks: load hook")
		unload(t, name)
		e.requireGone(t)
		requireDmesg(t, "klpkit-hooks: unload hook, hooked=1")
	}},
	{name: "macros-ignore-function", modules: one("stat-ignore-function.patch"), guest: func(t *testing.T, kos []string) {
		e := effect{"/proc/stat", "\nklpkit_ignore 1\n"}
		e.requireGone(t)
		name := load(t, kos[0])
		e.requireLive(t)
		funcs := patchedFunctions(t, name)
		require.Contains(t, funcs, "show_stat,1")
		require.NotContains(t, funcs, "get_idle_time,1", "KPATCH_IGNORE_FUNCTION(get_idle_time)")
		unload(t, name)
		e.requireGone(t)
	}},
	{name: "macros-syscall", modules: one("uname-syscall.patch"), guest: func(t *testing.T, kos []string) {
		require.NotEqual(t, "klpkit-syscall", domainname(t))
		name := load(t, kos[0])
		require.Equal(t, "klpkit-syscall", domainname(t), "uname(2) while the patch is live")
		funcs := patchedFunctions(t, name)
		require.Contains(t, funcs, "__x64_sys_newuname,1")
		require.NotContains(t, funcs, "__do_sys_newuname,1")
		unload(t, name)
		require.NotEqual(t, "klpkit-syscall", domainname(t))
	}},
}

// patchedFunctions lists the functions livepatch module name patches in
// vmlinux, as the kernel shows them: "name,sympos".
func patchedFunctions(t *testing.T, name string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join("/sys/kernel/livepatch", name, "vmlinux"))
	require.NoError(t, err)
	var funcs []string
	for _, e := range entries {
		if e.IsDir() {
			funcs = append(funcs, e.Name())
		}
	}
	t.Logf("%s patches %v", name, funcs)
	return funcs
}

func domainname(t *testing.T) string {
	t.Helper()
	var u unix.Utsname
	require.NoError(t, unix.Uname(&u))
	return strings.TrimRight(string(u.Domainname[:]), "\x00")
}

// TestMacrosInVM builds patches that use klpkit's kpatch-macros.h with the
// pipeline, loads them in the lab VM and checks each macro's effect (on
// 6.1; TestRunOn510InVM runs them on 5.10).
func TestMacrosInVM(t *testing.T) {
	for _, c := range casesOn(lab.Bookworm61, macroCases) {
		t.Run(c.name, func(t *testing.T) {
			kos := []string{fmt.Sprintf("/klp/%s-0.ko", c.name)}
			vmtest.Run(t, vmtest.Config{
				Timeout: 3 * time.Minute,
				Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
					tree := labTree(t, l)
					name := fmt.Sprintf("klpkit-%s", c.name)
					ko := buildPatch(t, l, tree, name, false, c.modules[0].patches...)
					requireNoMarkerSections(t, ko)
					return []vmtest.File{{Guest: kos[0], Host: ko}}
				},
			}, func(t *testing.T) { c.guest(t, kos) })
		})
	}
}

// requireNoMarkerSections checks that the ignore markers, and the syscall
// trace metadata KPATCH_IGNORE_SECTION drops, stay out of a module. (The
// .kpatch.callbacks.* entries still travel with the callbacks' code.)
func requireNoMarkerSections(t *testing.T, ko string) {
	t.Helper()
	f, err := elf.Open(ko)
	require.NoError(t, err)
	defer f.Close()
	for _, s := range f.Sections {
		name := strings.TrimPrefix(s.Name, ".rela")
		require.False(t, strings.HasPrefix(name, ".kpatch.ignore."), "%s has section %s", ko, s.Name)
		require.NotContains(t, []string{"__syscalls_metadata", "_ftrace_events"}, name, "%s has an ignored section", ko)
	}
}

// TestIgnoreMatters builds the KPATCH_IGNORE_FUNCTION patch with its
// macro removed, or replaced by KPATCH_IGNORE_SECTION on the function's
// section: without it get_idle_time is patched too (so the VM test shows
// the macro's effect, not an unchanged function); with either it is not.
// On every lab kernel generation (the patch applies to 5.10 as it is, and
// gcc-10 keeps get_idle_time out of line as gcc-12 does); a build, no VM.
func TestIgnoreMatters(t *testing.T) {
	onEachLab(t, func(t *testing.T, l *lab.Lab) {
		data, err := os.ReadFile(labPatch(l, "stat-ignore-function.patch"))
		require.NoError(t, err)
		const ignore = "+KPATCH_IGNORE_FUNCTION(get_idle_time);\n"
		require.Contains(t, string(data), ignore)
		cache := t.TempDir() // both builds share the original fs/proc/stat.o
		for _, tc := range []struct {
			name, line string
			changed    []string
		}{
			{"none", "+\n", []string{"show_stat", "get_idle_time"}},
			{"section", "+KPATCH_IGNORE_SECTION(\".text.get_idle_time\");\n", []string{"show_stat"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := filepath.Join(t.TempDir(), "stat.patch")
				require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(data), ignore, tc.line, 1)), 0o644))
				res, err := build.Run(t.Context(), build.Options{
					Source: labTree(t, l), Patches: []string{p}, OutputDir: t.TempDir(), Toolchain: labToolchain(l),
					CacheDir: cache,
				})
				require.NoError(t, err)
				require.Len(t, res.Objects, 1)
				require.ElementsMatch(t, tc.changed, res.Objects[0].Changed)
				requireNoMarkerSections(t, res.Module)
				if l.Generation == lab.Bullseye510 {
					requireGCC10(t, l, res.Module)
				}
			})
		}
	})
}
