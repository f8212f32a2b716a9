// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/livepatch"
)

// TestKpatchIntegration510InVM runs kpatch's integration suite for Linux
// 5.10.11 (fetched by the 5.10 lab's preparation from Debian's kpatch
// source package: never in the repository) against the 5.10 lab kernel,
// as TestKpatchIntegrationInVM runs the 6.2 suite against 6.1, in one
// boot: on the host every patch is built in the lab's gcc-10 toolchain
// root (and every one that applies and is no -FAIL once more as
// test-COMBINED); in the guest each module's checks run unchanged, then the
// combined module's and multiple.test. suite510 says what each patch must
// give.
func TestKpatchIntegration510InVM(t *testing.T) {
	s := &hostSuite{top: t, gen: lab.Bullseye510}
	vmtest.Run(t, vmtest.Config{
		Generation: lab.Bullseye510,
		Timeout:    8 * time.Minute,
		Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
			if os.Geteuid() != 0 {
				t.Fatal("building inside the 5.10 lab's toolchain root needs root (mount namespace and chroot)")
			}
			s.init(t, l)
			s.tree.ModulesDir = suite510Modules(t, s.top, l)
			s.build510(t)
			return append(s.files(t, l), suite510GuestModules(t, l)...)
		},
	}, guest510)
}

// suite510Modules returns a modules directory (laid out as /lib/modules)
// holding the lab's GuestModules and the modules only the suite patches
// (lab.KpatchSuite510Modules: nfsd), whose symbols the build reads, for
// the whole of top.
func suite510Modules(t, top *testing.T, l *lab.Lab) string {
	t.Helper()
	extra, err := l.KpatchSuite510ModulesDir()
	require.NoError(t, err)
	dir := openTempDir(top)
	for _, from := range []string{l.ModulesDir, extra} {
		err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			rel, err := filepath.Rel(from, path)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			dest := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
				return err
			}
			return os.WriteFile(dest, data, 0o644)
		})
		require.NoError(t, err)
	}
	return dir
}

// suite510GuestModules stages lab.KpatchSuite510Modules in the guest's
// /lib/modules (module-call-external's check loads nfsd).
func suite510GuestModules(t *testing.T, l *lab.Lab) []vmtest.File {
	t.Helper()
	extra, err := l.KpatchSuite510ModulesDir()
	require.NoError(t, err)
	var files []vmtest.File
	for _, m := range lab.KpatchSuite510Modules {
		rel := filepath.Join(l.KernelRelease, "kernel", m)
		files = append(files, vmtest.File{Guest: "/lib/modules/" + filepath.ToSlash(rel), Host: filepath.Join(extra, rel)})
	}
	return files
}

// suite510Outcomes maps suite510 by patch name.
func suite510Outcomes() map[string]suite510Row {
	m := make(map[string]suite510Row, len(suite510))
	for _, r := range suite510 {
		m[r.patch] = r
	}
	return m
}

// build510 builds every patch as suite510 expects, then the combined
// module, each as a subtest of build.
func (s *hostSuite) build510(t *testing.T) {
	t.Helper()
	want := suite510Outcomes()
	patches := suitePatches(t, s.dir)
	var got []string
	for _, p := range patches {
		got = append(got, p.name)
	}
	var names []string
	for _, r := range suite510 {
		names = append(names, r.patch)
	}
	require.Equal(t, names, got, "the suite's patches (in %s) are the table's", s.dir)
	t.Run("build", func(t *testing.T) {
		var combined []string
		fuzz := 0
		for _, p := range patches {
			r := want[p.name]
			t.Run(p.name, func(t *testing.T) {
				if r.fuzz > 2 {
					// An adaptation: refused as it is, and as
					// kpatch-build's GNU patch applies it.
					for _, f := range []int{0, 2} {
						_, err := s.build(t, p.name, f, p.path)
						require.ErrorIs(t, err, livepatch.ErrHunkFailed, "%s at fuzz %d", p.name, f)
					}
				}
				ko, err := s.build(t, p.name, r.fuzz, p.path)
				switch r.outcome {
				case outcomePasses:
					require.NoError(t, err, "%s must build", p.name)
					requireGCC10(t, s.lab, ko)
					if check := suite510BuildChecks[p.name]; check != nil {
						check(t, ko, s.warnings["test-"+p.name])
					}
					combined = append(combined, p.path)
					fuzz = max(fuzz, r.fuzz)
				case outcomeNoLoad:
					require.NoError(t, err, "%s must build", p.name)
					requireGCC10(t, s.lab, ko)
				case outcomeRefused:
					require.ErrorIs(t, err, build.ErrNoChanges)
					require.ErrorContains(t, err, "only line numbers moved")
				case outcomeNoApply:
					require.ErrorIs(t, err, livepatch.ErrHunkFailed)
					// Not even as kpatch-build applies patches.
					_, err := s.build(t, p.name, 2, p.path)
					require.ErrorIs(t, err, livepatch.ErrHunkFailed)
				default:
					t.Fatalf("%s: outcome %q", p.name, r.outcome)
				}
				if r.outcome != outcomePasses && r.outcome != outcomeNoLoad {
					require.NoFileExists(t, filepath.Join(s.out, "test-"+p.name+".ko"))
				}
			})
		}
		t.Run("COMBINED", func(t *testing.T) {
			require.NotEmpty(t, combined)
			ko, err := s.build(t, "COMBINED", fuzz, combined...)
			require.NoError(t, err, "kpatch-test: the combined module must build")
			requireGCC10(t, s.lab, ko)
		})
	})
}

// guest510 checks every module the host built (each patch suite510 says
// passes), then test-COMBINED and multiple.test, in one boot.
func guest510(t *testing.T) {
	labtest.RequireGuestRelease(t, "5.10.")
	g := setupSuiteGuest(t, suiteWorkDir+"/"+lab.KpatchSuite510Name)
	want := suite510Outcomes()
	for _, p := range g.patches {
		switch r := want[p.name]; r.outcome {
		case outcomePasses:
			t.Run(p.name, func(t *testing.T) {
				if check := suite510Checks[p.name]; check != nil {
					check(t, g, p)
					return
				}
				g.loadTest(t, "test-"+p.name+".ko", p.name, loadedTests(p))
			})
		case outcomeNoLoad:
			t.Run(p.name, func(t *testing.T) {
				mark := g.markDmesg(t, p.name)
				out, err := g.run(t, suiteKpatch, "load", "test-"+p.name+".ko")
				require.Error(t, err, "kpatch load %s succeeded: suite510 says it does not load (%s); update the table:\n%s", p.name, r.loadError, out)
				g.requireDmesg(t, mark, []string{r.loadError})
				require.NoDirExists(t, "/sys/kernel/livepatch/test_"+strings.ReplaceAll(p.name, "-", "_"))
				g.requireCleanDmesg(t, mark)
			})
		}
	}
	g.combined(t)
}

// suite510BuildChecks check what the build of a patch gave beyond a
// module: its module and its warnings.
var suite510BuildChecks = map[string]func(t *testing.T, ko string, warnings []string){
	// The patched e_show calls sunrpc's export cache_check: a klp
	// relocation of nfsd, and no cross-module dependency warning, since
	// nfsd already depends on sunrpc (its .modinfo; the lab's nfsd.ko is
	// in the build's modules directory), so sunrpc is loaded whenever the
	// relocation is written. TestCrossModuleDependsLab has the case that
	// warns.
	"module-call-external": func(t *testing.T, ko string, warnings []string) {
		requireKlpReference(t, ko, "nfsd", ".klp.sym.sunrpc.cache_check,0")
		for _, w := range warnings {
			require.NotContains(t, w, "cache_check", "nfsd depends on sunrpc: no warning")
		}
	},
}

// suite510Checks are the checks of patches the suite gives none, where
// loading and unloading alone would not run the patched code.
var suite510Checks = map[string]func(*testing.T, *suiteGuest, suitePatch){
	"module-call-external": moduleCallExternal510,
}

// moduleCallExternal510 checks module-call-external, whose patched nfsd
// e_show calls sunrpc's export cache_check. The livepatch must load while
// sunrpc is not loaded (a normal relocation to cache_check would make it
// fail with "Unknown symbol cache_check"); nfsd loaded afterwards (sunrpc
// with it) gets its part patched as it comes, the livepatch core writing
// the .klp.rela.nfsd relocation against sunrpc's cache_check then, and
// the header of /proc/fs/nfs/exports, which e_show prints, holds the
// patch's "# kpatch" line until kpatch unload.
func moduleCallExternal510(t *testing.T, g *suiteGuest, p suitePatch) {
	module := "test-" + p.name + ".ko"
	const exports, line = "/proc/fs/nfs/exports", "# kpatch\n"
	patch := "test_" + strings.ReplaceAll(p.name, "-", "_")
	for _, m := range []string{"nfsd", "sunrpc"} {
		require.NoDirExists(t, "/sys/module/"+m, "%s is loaded before the livepatch: the check needs it absent", m)
	}
	mark := g.markDmesg(t, p.name)
	out, err := g.run(t, suiteKpatch, "load", module)
	require.NoError(t, err, "kpatch load %s while sunrpc is not loaded:\n%s", module, out)
	require.NoDirExists(t, "/sys/module/sunrpc", "loading the livepatch loaded sunrpc")

	out, err = g.run(t, "modprobe", "nfsd")
	require.NoError(t, err, "modprobe nfsd with the livepatch loaded:\n%s", out)
	require.DirExists(t, "/sys/module/sunrpc")
	// klp_module_coming's notice: nfsd's part was applied, its klp
	// relocations written, as nfsd loaded.
	g.requireDmesg(t, mark, []string{"livepatch: applying patch '" + patch + "' to loading module 'nfsd'"})
	// No exports: the header alone, with the patch's line where fuzz 3
	// put it.
	header, err := os.ReadFile(exports)
	require.NoError(t, err)
	require.Equal(t, "# Version 1.1\n"+line+"# Path Client(Flags) # IPs\n", string(header), "%s while patched", exports)

	out, err = g.run(t, suiteKpatch, "unload", module)
	require.NoError(t, err, "kpatch unload %s:\n%s", module, out)
	header, err = os.ReadFile(exports)
	require.NoError(t, err)
	require.Equal(t, "# Version 1.1\n# Path Client(Flags) # IPs\n", string(header), "%s after kpatch unload", exports)
	// nfsd and the modules it pulled in go, so that no later check finds
	// sunrpc loaded.
	for _, m := range []string{"nfsd", "lockd", "nfs_acl", "auth_rpcgss", "grace", "sunrpc"} {
		if _, err := os.Stat("/sys/module/" + m); err == nil {
			out, err := g.run(t, "rmmod", m)
			require.NoError(t, err, "rmmod %s:\n%s", m, out)
		}
	}
	g.requireCleanDmesg(t, mark)
}
