// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"context"
	"errors"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/needtest"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/specprep"
)

// appliedPatches lists, per fixture kernel, the patches its spec's %prep
// must apply on x86_64 (derived by reading the fixture specs by hand).
func appliedPatches() map[string][]string {
	const (
		kmsg   = "linux-4.14-Log-kmsg-dump-on-panic.patch"
		tcp    = "double-tcp_mem-limits.patch"
		vmw    = "x86-vmware-Use-Efficient-and-Correct-ALTERNATIVEs.patch"
		cve    = "CVE-2022-0001-sched-fix.patch"
		rt     = "rt-sched-Add-preempt-rt-states.patch"
		fips   = "crypto-fips-self-tests.patch"
		sev    = "x86-sev-es-vmware-hypercall.patch"
		vmci   = "vmci-fix-queue-pair.patch"
		lv108  = "localversion-rt108.patch"
		lv67   = "localversion-rt67.patch"
		i40eFx = "i40e-photon-build-fix.patch"
		kat    = "kat-build-test-harness.patch"
	)
	return map[string][]string{
		"4.19.247-2.ph3":           {kmsg, tcp, vmw, cve},
		"4.19.325-1.ph3-aws":       {kmsg, cve},
		"4.19.247-rt108-10.ph3-rt": {kmsg, tcp, rt, lv108},
		"5.10.118-3.ph4":           {kmsg, tcp, vmw, cve, fips, sev, vmci, i40eFx, "fips-canister-binary-fix.patch"},
		"5.10.118-3.kat.ph4":       {kmsg, tcp, vmw, cve, kat, sev, vmci, i40eFx},
		"5.10.237-1.ph4-aws":       {kmsg, tcp, cve, vmci},
		"5.10.118-rt67-3.ph4-rt":   {kmsg, vmw, cve, lv67, rt, fips, i40eFx},
		"6.1.138-2.ph5":            {cve, kmsg, tcp, vmw, sev, fips, vmci},
		"6.1.138-1.ph5-rt":         {kmsg, vmw, sev, rt},
		"6.1.138-1.ph5-esx":        {kmsg, vmci},
	}
}

// expectedTree computes the tree %prep must produce, independently of
// patch(1): the fixture tree plus, per applied patch, its marker line or its
// new file. Symlinks are listed as "-> target".
func expectedTree(t *testing.T, patches []string, dir string) map[string]string {
	t.Helper()
	want := map[string]string{}
	if dir == "tree" {
		want["tools/Makefile"] = "-> ../Makefile"
	}
	base := filepath.Join(fixtureDir, dir)
	require.NoError(t, filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		data, err := os.ReadFile(p)
		want[filepath.ToSlash(rel)] = string(data)
		return err
	}))
	for _, name := range patches {
		text := string(readFixture(t, "patches/"+name))
		var target string
		for _, l := range strings.Split(text, "\n") {
			if rest, ok := strings.CutPrefix(l, "+++ b/"); ok {
				target = rest
			}
		}
		if _, exists := want[target]; !exists && !strings.Contains(text, "--- /dev/null") {
			continue // a patch for the other tree (i40e vs kernel)
		}
		if strings.Contains(text, "--- /dev/null") {
			if (dir == "tree") != (target != "src/i40e_main.c") {
				continue
			}
			lines := strings.Split(strings.TrimSpace(text), "\n")
			want[target] = strings.TrimPrefix(lines[len(lines)-1], "+") + "\n"
			continue
		}
		want[target] += "/* photon patch: " + name + " */\n"
	}
	return want
}

func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	got := map[string]string{}
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.Type()&fs.ModeSymlink != 0 {
			link, err := os.Readlink(p)
			got[filepath.ToSlash(rel)] = "-> " + link
			return err
		}
		data, err := os.ReadFile(p)
		got[filepath.ToSlash(rel)] = string(data)
		return err
	}))
	return got
}

// localCompiler returns the local gcc's .comment string, or "" (with the
// check to be skipped) when gcc is missing outside CI.
func localCompiler(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("gcc is required in CI: %v", err)
		}
		return ""
	}
	cc, err := LocalCompiler(context.Background(), "gcc", t.TempDir())
	require.NoError(t, err)
	return cc
}

func requirePatch(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("patch"); err != nil {
		needtest.Missing(t, "needs GNU patch in PATH")
	}
}

func fastDownload() *DownloadOptions {
	return &DownloadOptions{Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, StallTimeout: 300 * time.Millisecond}
}

func TestPrepareEveryReleaseAndFlavor(t *testing.T) {
	requirePatch(t)
	cc := localCompiler(t)
	kernels := fixtureKernels()
	root := buildRepo(t, kernels, repoOptions{comment: cc})
	srv := httptest.NewServer(newFaultServer(root))
	defer srv.Close()
	repo := &Repo{BaseURLs: []string{srv.URL}, CacheDir: t.TempDir(), Download: fastDownload()}
	work := t.TempDir()
	applied := appliedPatches()
	for i, s := range kernels {
		t.Run(s, func(t *testing.T) {
			k := photon.MustParseKernel(s)
			pureGoXZ := i%2 == 1 // both tarball decoders, alternately
			var mu sync.Mutex
			var steps []specprep.PrepareStep
			var include []string
			src, err := repo.Prepare(context.Background(), k, &PrepareOptions{
				Dir: work, SkipCompilerCheck: cc == "", PureGoXZ: pureGoXZ,
				Progress: klpkit.On(func(ev specprep.PrepareEvent) {
					mu.Lock()
					steps = append(steps, ev.Step)
					if strings.Contains(ev.Detail, "%include") {
						include = append(include, ev.Detail)
					}
					mu.Unlock()
				}),
			})
			require.NoError(t, err)
			assert.Equal(t, filepath.Join(work, s), src.Dir)
			assert.Equal(t, filepath.Join(work, s, "BUILD", "linux-"+k.Version.String()), src.Tree)

			// The tree holds exactly the expected patched content.
			got := readTree(t, src.Tree)
			config := got[".config"]
			delete(got, ".config")
			want := expectedTree(t, applied[s], "tree")
			if s == "6.1.138-2.ph5" {
				// %prep copies the jitterentropy tarball and a source file into crypto/.
				for name, body := range expectedTree(t, nil, "jitterentropy") {
					want["crypto/jitterentropy-3.4.1/"+name] = body
				}
				want["crypto/jitterentropy-3.4.1/jitterentropy_canister_wrapper.c"] = string(readFixture(t, "sources/jitterentropy_canister_wrapper.c"))
				// ... and fills in the SBAT template with sed -e ... > linux-sbat.csv.
				want["linux-sbat.csv"] = strings.NewReplacer("@@NAME@@", "linux", "@@VERSION_RELEASE@@", s, "@@LINUX_PH_GEN@@", "1").
					Replace(string(readFixture(t, "sources/linux-sbat.csv.in")))
			}
			assert.Equal(t, want, got)

			// The out-of-tree driver got its own patches (pushd/popd).
			if i40e := filepath.Join(filepath.Dir(src.Tree), "i40e-"+i40eVersion); dirExists(i40e) {
				want := expectedTree(t, applied[s], "i40e")
				if k.Release() == 4 && k.Flavor == photon.Generic {
					// 4.0's spec drops the depmod line with sed -i '/depmod/d'.
					want["src/Makefile"] = strings.Replace(want["src/Makefile"], "\tdepmod -a\n", "", 1)
				}
				assert.Equal(t, want, readTree(t, i40e))
			} else {
				assert.NotContains(t, applied[s], "i40e-photon-build-fix.patch")
			}

			// .config: the flavor's config with the target's LOCALVERSION.
			name, err := k.ConfigFile()
			require.NoError(t, err)
			wantConfig := string(setConfigString(readFixture(t, "configs/"+name), "CONFIG_LOCALVERSION", k.LocalVersion()))
			if s == "5.10.118-rt67-3.ph4-rt" {
				// %build includes modify_kernel_configs.inc (fips on): m -> y.
				wantConfig = strings.ReplaceAll(wantConfig, "CANISTER=m", "CANISTER=y")
				wantConfig = strings.ReplaceAll(wantConfig, "CANISTER_AEAD=m", "CANISTER_AEAD=y")
				assert.Contains(t, include, "applied %include modify_kernel_configs.inc")
				assert.Contains(t, include, "skipped %include check_for_config_applicability.inc: it does more than edit .config")
			}
			assert.Equal(t, wantConfig, config)
			assert.Equal(t, filepath.Join(src.Tree, ".config"), src.Config)
			rel, err := treeRelease(src.Tree, k)
			require.NoError(t, err)
			assert.Equal(t, s, rel)

			// vmlinux from the debuginfo RPM, and its compiler.
			assert.Equal(t, filepath.Join(work, s, "debug", filepath.FromSlash(strings.TrimPrefix(k.VmlinuxPath(), "/"))), src.Vmlinux)
			if cc != "" {
				assert.Equal(t, cc, src.Compiler)
			}
			assert.Equal(t, filepath.Join(src.Tree, "Module.symvers"), src.ModuleSymvers)
			assert.NoFileExists(t, src.ModuleSymvers)
			assert.Contains(t, steps, specprep.StepPatch)
			assert.Equal(t, specprep.StepDone, steps[len(steps)-1])

			// A second Prepare reuses the finished tree.
			again, err := repo.Prepare(context.Background(), k, &PrepareOptions{Dir: work, SkipCompilerCheck: cc == ""})
			require.NoError(t, err)
			assert.Equal(t, src.Tree, again.Tree)
			assert.Equal(t, src.Vmlinux, again.Vmlinux)
		})
	}
	// Nothing half-done is left in the work directory.
	names := outputs(work)
	sort.Strings(names)
	want := append([]string(nil), kernels...)
	sort.Strings(want)
	assert.Equal(t, want, names)
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func TestPrepareCompilerMismatch(t *testing.T) {
	requirePatch(t)
	if localCompiler(t) == "" {
		t.Skip("needs gcc for the compiler check")
	}
	k := photon.MustParseKernel("5.10.118-3.ph4")
	root := buildRepo(t, []string{k.String()}, repoOptions{comment: "GCC: (GCC) 10.5.0"})
	repo := &Repo{Dir: root}
	work := t.TempDir()
	_, err := repo.Prepare(context.Background(), k, &PrepareOptions{Dir: work})
	require.ErrorIs(t, err, ErrCompilerMismatch)
	var me *CompilerMismatchError
	require.True(t, errors.As(err, &me))
	assert.Equal(t, "10.5.0", me.NeededVersion())
	assert.Contains(t, err.Error(), "install gcc 10.5.0")
	assert.FileExists(t, filepath.Join(work, k.String(), preparedMarker), "the tree stays for a rerun")

	var steps []specprep.PrepareStep
	src, err := repo.Prepare(context.Background(), k, &PrepareOptions{Dir: work, SkipCompilerCheck: true,
		Progress: klpkit.On(func(ev specprep.PrepareEvent) { steps = append(steps, ev.Step) })})
	require.NoError(t, err)
	assert.Equal(t, "GCC: (GCC) 10.5.0", src.Compiler)
	assert.Equal(t, []specprep.PrepareStep{specprep.StepCompiler, specprep.StepDone}, steps, "the rerun reuses the tree")
}

// Two processes preparing one kernel take turns: the second reuses the
// first's tree instead of preparing it again and replacing it under the
// first's feet.
func TestPrepareConcurrentSameKernel(t *testing.T) {
	requirePatch(t)
	k := photon.MustParseKernel("5.10.118-3.ph4")
	repo := &Repo{Dir: buildRepo(t, []string{k.String()}, repoOptions{})}
	srpm, err := repo.Fetch(context.Background(), k, SourcePackage)
	require.NoError(t, err)
	work := t.TempDir()
	var extracts atomic.Int32
	opts := &PrepareOptions{Dir: work, Progress: klpkit.On(func(ev specprep.PrepareEvent) {
		if ev.Step == specprep.StepExtract {
			extracts.Add(1)
		}
	})}
	var wg sync.WaitGroup
	trees := make([]string, 3)
	errs := make([]error, 3)
	for i := range trees {
		wg.Go(func() {
			src, err := Prepare(context.Background(), k, srpm, "", opts)
			errs[i] = err
			if err == nil {
				trees[i] = src.Tree
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	assert.Equal(t, int32(1), extracts.Load(), "prepared once")
	assert.Equal(t, trees[0], trees[1])
	assert.Equal(t, trees[0], trees[2])
	assert.FileExists(t, filepath.Join(trees[0], "Makefile"))
}

// A tree prepared without debuginfo gets vmlinux added later, without
// preparing the source again.
func TestPrepareAddsVmlinuxLater(t *testing.T) {
	requirePatch(t)
	k := photon.MustParseKernel("5.10.118-3.ph4")
	repo := &Repo{Dir: buildRepo(t, []string{k.String()}, repoOptions{})}
	srpm, err := repo.Fetch(context.Background(), k, SourcePackage)
	require.NoError(t, err)
	debuginfo, err := repo.Fetch(context.Background(), k, DebuginfoPackage)
	require.NoError(t, err)
	work := t.TempDir()
	src, err := Prepare(context.Background(), k, srpm, "", &PrepareOptions{Dir: work, SkipCompilerCheck: true})
	require.NoError(t, err)
	assert.Empty(t, src.Vmlinux)

	var steps []specprep.PrepareStep
	src, err = Prepare(context.Background(), k, srpm, debuginfo, &PrepareOptions{Dir: work, SkipCompilerCheck: true,
		Progress: klpkit.On(func(ev specprep.PrepareEvent) { steps = append(steps, ev.Step) })})
	require.NoError(t, err)
	assert.Equal(t, []specprep.PrepareStep{specprep.StepVmlinux, specprep.StepCompiler, specprep.StepDone}, steps)
	assert.FileExists(t, src.Vmlinux)
	assert.Equal(t, filepath.Join(work, k.String(), "debug"), src.Vmlinux[:len(filepath.Join(work, k.String(), "debug"))])

	again, err := Prepare(context.Background(), k, srpm, debuginfo, &PrepareOptions{Dir: work, SkipCompilerCheck: true})
	require.NoError(t, err)
	assert.Equal(t, src.Vmlinux, again.Vmlinux, "the marker records it")
}

func TestPrepareUnsupportedSpec(t *testing.T) {
	requirePatch(t)
	k := photon.MustParseKernel("6.1.138-1.ph5-rt")
	cases := map[string]struct{ old, new, reason string }{
		"include":       {"%autopatch -p1 -m301 -M717\n", "%include %{SOURCE1}\n", "%include"},
		"shell command": {"%autopatch -p1 -m301 -M717\n", "rm -rf Documentation\n", `command "rm"`},
		"shell expand":  {"%global fips 0", "%global fips %(echo 0)", "shell expansion"},
		"bad condition": {"%if 0%{?fips}\n%autopatch -p1 -m1008", "%if fips\n%autopatch -p1 -m1008", "unsupported text"},
		"regex sed":     {"sed -i 's/CONFIG_LOCALVERSION=\"-rt\"/", "sed -i 's/CONFIG_LOCALVERSION=.*/", "literal"},
		"setup option":  {"%setup -q -n linux-%{version}", "%setup -q -x -n linux-%{version}", "%setup option"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			root := buildRepo(t, []string{k.String()}, repoOptions{specEdit: func(s string) string {
				require.Contains(t, s, c.old)
				return strings.Replace(s, c.old, c.new, 1)
			}})
			work := t.TempDir()
			_, err := (&Repo{Dir: root}).Prepare(context.Background(), k, &PrepareOptions{Dir: work, SkipCompilerCheck: true})
			require.ErrorIs(t, err, specprep.ErrUnsupportedSpec)
			var se *specprep.SpecError
			require.True(t, errors.As(err, &se))
			assert.Equal(t, "linux-rt.spec", se.File)
			assert.Positive(t, se.Line)
			assert.Contains(t, err.Error(), c.reason)
			entries := outputs(work)
			assert.Empty(t, entries, "no output after a spec error")
		})
	}
}

func TestPrepareSpecMismatch(t *testing.T) {
	requirePatch(t)
	root := buildRepo(t, []string{"5.10.118-3.ph4"}, repoOptions{})
	k := photon.MustParseKernel("5.10.118-3.ph4")
	other := photon.MustParseKernel("5.10.118-4.ph4")
	srpm := filepath.Join(root, SourcePackage.RepoPath(k.Release()), k.SourceRPM())
	_, err := Prepare(context.Background(), other, srpm, "", &PrepareOptions{Dir: t.TempDir()})
	require.ErrorIs(t, err, ErrSpecMismatch)
	assert.Contains(t, err.Error(), "5.10.118-4.ph4")
}

func TestPrepareRefusesHostilePatch(t *testing.T) {
	requirePatch(t)
	k := photon.MustParseKernel("6.1.138-1.ph5-esx")
	root := buildRepo(t, []string{k.String()}, repoOptions{specEdit: func(s string) string {
		s = strings.Replace(s, "Patch1521:", "Patch9999:      zz-hostile-path.patch\nPatch1521:", 1)
		return strings.Replace(s, "%patch1521 -p1\n", "%patch1521 -p1\n%patch9999 -p1\n", 1)
	}})
	parent := t.TempDir()
	work := filepath.Join(parent, "work")
	_, err := (&Repo{Dir: root}).Prepare(context.Background(), k, &PrepareOptions{Dir: work, SkipCompilerCheck: true})
	var pe *specprep.PatchError
	require.True(t, errors.As(err, &pe), "got %v", err)
	assert.Equal(t, 9999, pe.Number)
	assert.Contains(t, err.Error(), "zz-hostile-path.patch")
	var escaped []string
	_ = filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == "escape.c" {
			escaped = append(escaped, p)
		}
		return nil
	})
	assert.Empty(t, escaped)
}

func TestPrepareDebuginfoWithoutVmlinux(t *testing.T) {
	requirePatch(t)
	k := photon.MustParseKernel("6.1.138-2.ph5")
	other := photon.MustParseKernel("6.1.138-1.ph5-rt")
	root := buildRepo(t, []string{k.String(), other.String()}, repoOptions{})
	srpm, err := (&Repo{Dir: root}).Fetch(context.Background(), k, SourcePackage)
	require.NoError(t, err)
	wrong, err := (&Repo{Dir: root}).Fetch(context.Background(), other, DebuginfoPackage)
	require.NoError(t, err)
	work := t.TempDir()
	_, err = Prepare(context.Background(), k, srpm, wrong, &PrepareOptions{Dir: work, SkipCompilerCheck: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "has no /usr/lib/debug/lib/modules/6.1.138-2.ph5/vmlinux-6.1.138-2.ph5")
	entries := outputs(work)
	assert.Empty(t, entries)
}

// outputs lists what Prepare left in dir, its lock files aside.
func outputs(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".lock") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestSetConfigString(t *testing.T) {
	assert.Equal(t, "A=y\nCONFIG_LOCALVERSION=\"-1.ph5\"\n", string(setConfigString([]byte("A=y\nCONFIG_LOCALVERSION=\"\"\n"), "CONFIG_LOCALVERSION", "-1.ph5")))
	assert.Equal(t, "CONFIG_LOCALVERSION=\"-1.ph5\"\n", string(setConfigString([]byte("# CONFIG_LOCALVERSION is not set\n"), "CONFIG_LOCALVERSION", "-1.ph5")))
	assert.Equal(t, "A=y\nCONFIG_LOCALVERSION=\"-1.ph5\"\n", string(setConfigString([]byte("A=y"), "CONFIG_LOCALVERSION", "-1.ph5")))
}
