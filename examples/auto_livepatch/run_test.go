// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/photonsource"
	"github.com/klpkit/klpkit/build/photonsource/photonsourcetest"
	"github.com/klpkit/klpkit/internal/version"
	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
	"github.com/klpkit/klpkit/rpmpkg"
)

const kernel = "6.1.138-2.ph5"

// cli runs the command with a fake build.Run. The fake checks it was given
// the Source the command prepared, as it is, asks it for its tree when
// fetch is set (the real fetch and prepare, with a make stand-in; else a
// stand-in tree), then writes a stand-in module.
type cli struct {
	a        *app
	out, err bytes.Buffer
	got      *build.Options
	src      *photonsource.Source
	tree     *build.Tree
	fetch    bool
	fail     error
	badName  bool // the fake writes the module but reports a name rpm refuses
	env      map[string]string
	patch    string
}

var clock = time.Date(2026, time.November, 27, 13, 7, 3, 0, time.UTC)

func newCLI(t *testing.T) *cli {
	t.Helper()
	c := &cli{env: map[string]string{}}
	c.patch = writeFile(t, "CVE-2023-1234_netfilter-fix.patch", "--- a/fs/proc/cmdline.c\n+++ b/fs/proc/cmdline.c\n")
	c.a = &app{stdout: &c.out, stderr: &c.err, root: photonsourcetest.TempDir(t),
		uname:    func() (string, error) { return kernel, nil },
		now:      func() time.Time { return clock },
		getenv:   func(k string) string { return c.env[k] },
		makeProg: photonsourcetest.FakeMake(t),
		prepare: func(ctx context.Context, s *photonsource.Source) error {
			c.src = s
			if c.fetch {
				_, err := s.Tree(ctx)
				return err
			}
			return nil
		},
		build: func(ctx context.Context, o build.Options) (*build.Result, error) {
			c.got = &o
			require.Same(t, c.src, o.Source, "the prepared Source, passed through unchanged")
			caps := o.Source.Capabilities()
			assert.Equal(t, c.src.Kernel.String(), caps.Release)
			assert.NotNil(t, caps.Livepatchable)
			assert.NotNil(t, caps.BuildAll, "a header change can have the Photon tree built in full")
			assert.NotNil(t, caps.ModuleDebugDir, "a header's users in modules come from the debuginfo RPM")
			tree := &build.Tree{Release: c.src.Kernel.String(), Dir: "/fake/tree"}
			if c.fetch {
				var err error
				if tree, err = o.Source.Tree(ctx); err != nil {
					return nil, err
				}
			}
			c.tree = tree
			o.Progress(buildReport(build.Event{Stage: build.StageLink, Message: "building patch module " + o.Name + ".ko", Total: 1}))
			if c.fail != nil {
				return nil, c.fail
			}
			ko := filepath.Join(o.OutputDir, o.Name+".ko")
			// rpmpkg.Build reads it: a livepatch module for the target.
			img := kmodtest.BuildModule(kmodtest.ModuleSpec{Name: kmod.ModuleName(o.Name), Livepatch: true,
				Vermagic: tree.Release + " SMP preempt mod_unload modversions "})
			if err := os.WriteFile(ko, img, 0o644); err != nil {
				return nil, err
			}
			if c.badName {
				return &build.Result{Module: ko, Name: "bad name"}, nil
			}
			return &build.Result{Module: ko, Name: o.Name}, nil
		}}
	return c
}

func (c *cli) run(args ...string) error {
	c.out.Reset()
	c.err.Reset()
	c.got, c.src, c.tree = nil, nil, nil
	return c.a.run(context.Background(), args)
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

func writeFileAt(t *testing.T, path string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	return path
}

func TestHelp(t *testing.T) {
	c := newCLI(t)
	for _, args := range [][]string{{"-h"}, {"--help"}, {}, {"-k", "garbage", "-h"}} {
		require.NoError(t, c.run(args...), "help exits 0, needs no root and checks nothing: %q", args)
		assert.Contains(t, c.out.String(), "Usage: auto_livepatch")
		assert.Nil(t, c.got)
	}
}

func TestVersion(t *testing.T) {
	c := newCLI(t)
	for _, args := range [][]string{{"--version"}, {"-p", c.patch, "--version"}, {"-k", "garbage", "--version"}} {
		require.NoError(t, c.run(args...), "--version exits 0 and checks nothing: %q", args)
		assert.Equal(t, "klpkit devel\n", c.out.String(), "a test binary has no VCS stamps")
		assert.Equal(t, version.Line()+"\n", c.out.String())
		assert.Empty(t, c.err.String())
		assert.Nil(t, c.got, "nothing is built")
	}
}

func TestDefaults(t *testing.T) {
	c := newCLI(t)
	require.NoError(t, c.run("-p", c.patch))
	o := c.got
	require.NotNil(t, o)
	assert.Equal(t, "CVE-2023-1234_netfil-27Nov2026-13_07_03", o.Name, "auto_livepatch.sh's default name")
	assert.Equal(t, []string{c.patch}, o.Patches)
	assert.False(t, o.NoReplace)
	assert.Empty(t, o.Description)
	assert.Empty(t, o.DebugDir)
	assert.Equal(t, filepath.Join(c.a.root, defaultCache, "objects"), o.CacheDir)
	src := c.src
	assert.Equal(t, kernel, src.Kernel.String(), "the running kernel")
	assert.Equal(t, filepath.Join(c.a.root, defaultWork), src.Dir)
	assert.Equal(t, filepath.Join(c.a.root, defaultCache, "rpms"), src.Repo.CacheDir)
	assert.Nil(t, src.Repo.BaseURLs, "the public hosts")
	assert.Contains(t, c.out.String(), "No kernel version given: building native patch for "+kernel)

	out := filepath.Join(c.a.root, defaultOutput)
	ko := filepath.Join(out, o.Name+".ko")
	assert.FileExists(t, ko)
	assert.Contains(t, c.out.String(), "SUCCESS\nLivepatch module: "+ko+"\n")
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "only the module: no RPM, no staging left")
}

func TestAllOptions(t *testing.T) {
	c := newCLI(t)
	second := writeFile(t, "b.patch", "")
	third := writeFile(t, "c.patch", "")
	desc := writeFile(t, "desc", "Fixes CVE-2023-1234\n")
	rpmDesc := writeFile(t, "rpmdesc", "Package text\n")
	srpm := writeFile(t, "linux.src.rpm", "")
	debuginfo := writeFile(t, "linux-debuginfo.rpm", "")
	symvers := writeFile(t, "Module.symvers", "")
	key := writeFile(t, "KEY", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n")
	out, cache, work, repoDir := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	c.env["SOURCE_DATE_EPOCH"] = "1700000000"
	stale := writeFileAt(t, filepath.Join(c.a.root, defaultDebuginfo, "orig", "old.o"))

	require.NoError(t, c.run("-k", "5.10.118-rt67-3.ph4-rt", "-p", c.patch, second, "-n", "my-fix.ko", "-o", out, "-R",
		"--exportdebuginfo", "-d", desc, "--rpm", "--rpm-version", "2", "--rpm-release", "3", "--rpm-desc", rpmDesc,
		"-s", srpm, "-v", debuginfo, "--mirror", "http://a.example/photon", "--mirror=http://b.example/photon",
		"--repo-dir", repoDir, "--cache", cache, "--work", work, "-j", "2", "--symvers", symvers,
		"--make-arg", "CC=gcc-10", "--skip-compiler-check", "--signing-key", key, third))
	o := c.got
	assert.Equal(t, []string{c.patch, second, third}, o.Patches, "-p values, then the other arguments")
	assert.Equal(t, "my-fix", o.Name)
	assert.True(t, o.NoReplace)
	assert.Equal(t, "Fixes CVE-2023-1234", o.Description)
	assert.Equal(t, filepath.Join(c.a.root, defaultDebuginfo), o.DebugDir)
	assert.True(t, o.KeepWork)
	assert.Equal(t, filepath.Join(c.a.root, defaultDebuginfo, "kpatch-tmp"), o.WorkDir)
	assert.NoFileExists(t, stale, "debug files of an earlier run are removed")
	assert.Equal(t, 2, o.Jobs)
	assert.True(t, o.SkipCompilerCheck)
	assert.Equal(t, filepath.Join(cache, "objects"), o.CacheDir)
	src := c.src
	assert.Equal(t, "5.10.118-rt67-3.ph4-rt", src.Kernel.String())
	assert.Equal(t, srpm, src.Repo.SourceRPMPath)
	assert.Equal(t, debuginfo, src.Repo.DebuginfoRPMPath)
	assert.Equal(t, []string{"http://a.example/photon", "http://b.example/photon"}, src.Repo.BaseURLs)
	assert.Equal(t, repoDir, src.Repo.Dir)
	assert.Equal(t, filepath.Join(cache, "rpms"), src.Repo.CacheDir)
	assert.Equal(t, work, src.Dir)
	assert.Equal(t, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n", string(src.Repo.SigningKeys))
	assert.Equal(t, symvers, src.ModuleSymvers)
	assert.Equal(t, []string{"CC=gcc-10"}, src.MakeArgs)
	assert.True(t, src.Prepare.SkipCompilerCheck)

	ko := filepath.Join(out, "my-fix.ko")
	rpmFile := filepath.Join(out, "my-fix-2-3.ph4.x86_64.rpm")
	assert.FileExists(t, ko, "the module stays beside the RPM")
	assert.Contains(t, c.out.String(), "Livepatch RPM: "+rpmFile+"\n")
	f, err := os.Open(rpmFile)
	require.NoError(t, err)
	defer f.Close()
	info, err := rpmpkg.Inspect(t.Context(), f, nil)
	require.NoError(t, err)
	assert.Equal(t, "my-fix", info.Name)
	assert.Equal(t, "2", info.Version)
	assert.Equal(t, "3.ph4", info.Release)
	assert.Equal(t, "Package text", info.Description)
	assert.Equal(t, time.Unix(1700000000, 0).UTC(), info.BuildTime.UTC())
}

func TestRPMDescriptionDefaults(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	require.NoError(t, c.run("-k", kernel, "-p", c.patch, "-n", "a", "-o", out, "--rpm"))
	assert.Equal(t, "Livepatch module for Linux "+kernel, rpmDescription(t, filepath.Join(out, "a-1-1.ph5.x86_64.rpm")), "default text; version and release 1/1")

	desc := writeFile(t, "d", "From the -d file\n")
	require.NoError(t, c.run("-k", kernel, "-p", c.patch, "-n", "b", "-o", out, "--rpm", "-d", desc))
	assert.Equal(t, "From the -d file", rpmDescription(t, filepath.Join(out, "b-1-1.ph5.x86_64.rpm")))
}

func rpmDescription(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	info, err := rpmpkg.Inspect(t.Context(), f, nil)
	require.NoError(t, err)
	return info.Description
}

func TestReplaceForcedOffOnPhoton3(t *testing.T) {
	c := newCLI(t)
	require.NoError(t, c.run("-k", "4.19.325-1.ph3", "-p", c.patch, "-o", t.TempDir()))
	assert.True(t, c.got.NoReplace, "4.19 has no klp replace")
	assert.Contains(t, c.out.String(), "Photon 3.0: kernel 4.19 has no atomic replace; building a non-replace module (-R)")

	require.NoError(t, c.run("-k", "5.10.118-3.ph4", "-p", c.patch, "-o", t.TempDir()))
	assert.False(t, c.got.NoReplace)
}

func TestErrors(t *testing.T) {
	c := newCLI(t)
	missing := filepath.Join(t.TempDir(), "missing")
	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"no patch", []string{"-k", kernel}, "ERROR: Please input at least one patch file\n"},
		{"unknown option", []string{"--frob", "-p", c.patch}, "ERROR: unknown flag: --frob (see auto_livepatch -h)\n"},
		{"value missing", []string{"-p", c.patch, "-k"}, "ERROR: flag needs an argument: 'k' in -k (see auto_livepatch -h)\n"},
		{"missing patch", []string{"-p", c.patch, missing}, "ERROR: Couldn't find patch file " + missing + "\n"},
		{"missing description", []string{"-p", c.patch, "-d", missing}, "ERROR: Description file " + missing + " not found\n"},
		{"missing rpm description", []string{"-p", c.patch, "--rpm", "--rpm-desc", missing}, "ERROR: RPM description file " + missing + " not found\n"},
		{"rpm options without --rpm", []string{"-p", c.patch, "--rpm-version", "2"}, "ERROR: --rpm-version, --rpm-release and --rpm-desc need --rpm\n"},
		{"bad rpm version", []string{"-p", c.patch, "--rpm", "--rpm-version", "1-2"}, "ERROR: --rpm-version \"1-2\": want letters, digits and ._+~^ only\n"},
		{"bad rpm release", []string{"-p", c.patch, "--rpm", "--rpm-release", "1 x"}, "ERROR: --rpm-release \"1 x\": want"},
		{"missing src rpm", []string{"-p", c.patch, "-s", missing}, "ERROR: Failed to find local src rpm at " + missing + "\n"},
		{"missing debuginfo rpm", []string{"-p", c.patch, "-v", missing}, "ERROR: Failed to find local debuginfo rpm at " + missing + "\n"},
		{"not a photon kernel", []string{"-k", "6.1.0-56-amd64", "-p", c.patch}, "ERROR: Wrong kernel version detected: 6.1.0-56-amd64: "},
		{"typo in flavor", []string{"-k", "6.1.138-2.ph5-ezx", "-p", c.patch}, "ERROR: Wrong kernel version detected: 6.1.138-2.ph5-ezx"},
		{"esx", []string{"-k", "6.1.138-1.ph5-esx", "-p", c.patch}, "ERROR: "},
		{"below threshold", []string{"-k", "4.19.245-5.ph3-aws", "-p", c.patch}, "ERROR: "},
		{"latent entropy", []string{"-k", "6.1.83-5.ph5", "-p", c.patch}, "ERROR: "},
		{"bad name", []string{"-p", c.patch, "-n", "my fix"}, "ERROR: module name \"my fix\": use at most 55 characters from [A-Za-z0-9_-] (for example \"my-fix\")\n"},
		{"missing signing key", []string{"-p", c.patch, "--signing-key", missing}, "ERROR: signing key file " + missing + " not found\n"},
		{"negative jobs", []string{"-p", c.patch, "-j", "-1"}, "ERROR: -j -1: the job count must be positive\n"},
		{"bad make arg", []string{"-p", c.patch, "--make-arg", "x"}, "ERROR: --make-arg \"x\": want VAR=VALUE\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.run(tc.args...)
			require.Error(t, err)
			assert.Contains(t, c.err.String(), tc.msg)
			assert.Nil(t, c.got, "nothing built")
			assert.NoDirExists(t, filepath.Join(c.a.root, defaultOutput), "no output directory made")
		})
	}
	_, err := os.Stat(filepath.Join(c.a.root, "var"))
	assert.ErrorIs(t, err, os.ErrNotExist, "argument errors write nothing")
}

func TestNotLivepatchableNamesReason(t *testing.T) {
	c := newCLI(t)
	err := c.run("-k", "6.1.138-1.ph5-esx", "-p", c.patch)
	require.ErrorIs(t, err, photon.ErrNotLivepatchable)
	c.a.uname = func() (string, error) { return "", errors.New("no uname") }
	require.ErrorContains(t, c.run("-p", c.patch), "no -k given and the running kernel's release is unknown")
}

func TestBuildFailureLeavesNoOutput(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.fail = build.ErrNoChanges
	err := c.run("-k", kernel, "-p", c.patch, "-o", out, "--rpm")
	require.ErrorIs(t, err, build.ErrNoChanges)
	assert.Contains(t, c.err.String(), "ERROR: Building livepatch module failed: no functional changes found\n")
	entries, _ := os.ReadDir(out)
	assert.Empty(t, entries, "no partial outputs, no staging directory")
}

func TestRPMFailureLeavesNoOutput(t *testing.T) {
	c := newCLI(t)
	out := t.TempDir()
	c.badName = true
	err := c.run("-k", kernel, "-p", c.patch, "-o", out, "--rpm")
	require.Error(t, err)
	assert.Contains(t, c.err.String(), "ERROR: Packaging kernel module as rpm failed")
	entries, _ := os.ReadDir(out)
	assert.Empty(t, entries, "the module is not left without its RPM")
}

// TestMirrorFlow runs the real fetch (repodata, checksums, cache) and
// preparation against a Photon-layout repository served on loopback, up to
// where a real kernel tree would be compiled.
func TestMirrorFlow(t *testing.T) {
	repo := photonsourcetest.NewRepo(t, kernel, "4.19.325-1.ph3")
	url := repo.Serve(t)
	c := newCLI(t)
	c.fetch = true
	out := t.TempDir()
	require.NoError(t, c.run("-k", kernel, "-p", c.patch, "--mirror", url, "-o", out, "--skip-compiler-check", "--rpm"))
	require.NotNil(t, c.tree)
	assert.Equal(t, kernel, c.tree.Release)
	assert.FileExists(t, filepath.Join(c.tree.Dir, "fs/proc/cmdline.c"))
	assert.FileExists(t, c.tree.Vmlinux)
	assert.FileExists(t, c.tree.ModuleSymvers)
	assert.Contains(t, c.out.String(), "Fetching linux-6.1.138-2.ph5.src.rpm\n")
	assert.Contains(t, c.out.String(), "Preparing the source tree of 6.1.138-2.ph5\n")
	assert.Contains(t, c.err.String(), "downloaded linux-debuginfo-6.1.138-2.ph5.x86_64.rpm")
	assert.FileExists(t, filepath.Join(out, "CVE-2023-1234_netfil-27Nov2026-13_07_03-1-1.ph5.x86_64.rpm"))
	assert.Contains(t, c.err.String(), "no devel RPM for 6.1.138-2.ph5 in the repositories: building the whole kernel once",
		"without a devel RPM the full build is announced")

	// Cached: a second run downloads nothing.
	require.NoError(t, c.run("-k", kernel, "-p", c.patch, "--mirror", url, "-o", t.TempDir(), "--skip-compiler-check"))
	assert.NotContains(t, c.err.String(), "downloaded")

	// A package whose bytes do not match the repodata is refused.
	repo.Corrupt(t, photon.MustParseKernel("4.19.325-1.ph3"), kernelsrc.SourcePackage)
	out = filepath.Join(t.TempDir(), "out")
	err := c.run("-k", "4.19.325-1.ph3", "-p", c.patch, "--mirror", url, "-o", out, "--skip-compiler-check")
	require.ErrorIs(t, err, kernelsrc.ErrChecksumMismatch)
	assert.Contains(t, c.err.String(), "ERROR: Couldn't get the kernel source of 4.19.325-1.ph3: ")
	assert.NoDirExists(t, out, "no output directory left behind")
	assert.Nil(t, c.got, "no build started")

	// A kernel the mirror does not have.
	err = c.run("-k", "6.1.138-3.ph5", "-p", c.patch, "--mirror", url, "-o", filepath.Join(t.TempDir(), "out"))
	require.ErrorIs(t, err, kernelsrc.ErrPackageNotFound)
	assert.True(t, strings.Contains(c.err.String(), "linux-6.1.138-3.ph5.src.rpm"), c.err.String())
}

// TestMirrorDevel: with the kernel's devel RPM on the mirror, its
// Module.symvers is used and the kernel is not built in full.
func TestMirrorDevel(t *testing.T) {
	repo := photonsourcetest.NewRepo(t, kernel)
	symvers := "0x0badc0de\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"
	repo.AddDevel(t, photon.MustParseKernel(kernel), []byte(symvers))
	c := newCLI(t)
	c.fetch = true
	require.NoError(t, c.run("-k", kernel, "-p", c.patch, "--mirror", repo.Serve(t), "-o", t.TempDir(), "--skip-compiler-check"))
	assert.Contains(t, c.err.String(), "downloaded linux-devel-6.1.138-2.ph5.x86_64.rpm")
	assert.NotContains(t, c.err.String(), "no devel RPM")
	got, err := os.ReadFile(c.tree.ModuleSymvers)
	require.NoError(t, err)
	assert.Equal(t, symvers, string(got))
	assert.NotContains(t, c.out.String(), "vmlinux modules", "no full build")
}

func TestProgressOutput(t *testing.T) {
	var out, errw bytes.Buffer
	p := newProgress(&out, &errw, false)
	p.step(photonsource.StepFetch, "fetching x.rpm")
	p.download(kernelsrc.DownloadEvent{File: "x.rpm", Total: 2048})
	p.download(kernelsrc.DownloadEvent{File: "x.rpm", Bytes: 1024, Total: 2048})
	p.download(kernelsrc.DownloadEvent{File: "x.rpm", Bytes: 2048, Total: 2048, Done: true})
	p.event(build.Event{Stage: build.StageCompile, Message: "building original and patched objects", Total: 2})
	assert.Equal(t, "Fetching x.rpm\nBuilding original and patched objects\n", out.String())
	assert.Equal(t, "[fetch 0/1] downloading x.rpm\n[fetch 1/1] downloaded x.rpm (2.0 KiB)\n[compile 0/2] building original and patched objects\n", errw.String())

	out.Reset()
	errw.Reset()
	p = newProgress(&out, &errw, true)
	at := time.Unix(0, 0)
	p.SetClock(func() time.Time { return at })
	p.download(kernelsrc.DownloadEvent{File: "x.rpm", Bytes: 1 << 20, Total: 4 << 20})
	at = at.Add(time.Second)
	p.download(kernelsrc.DownloadEvent{File: "x.rpm", Bytes: 2 << 20, Total: 4 << 20})
	p.event(build.Event{Stage: build.StageCompile, Message: "built fs/proc/cmdline.o", Done: 1, Total: 2})
	p.finish()
	assert.Equal(t, "[=====>              ] fetch   x.rpm 1.0 MiB of 4.0 MiB"+
		"\r\033[K[==========>         ] fetch   x.rpm 2.0 MiB of 4.0 MiB, 1.0 MiB/s, 0:02 left"+
		"\r\033[K[==========>         ] compile 1/2 built fs/proc/cmdline.o\r\033[K", errw.String(), "rate and time left for downloads, counts for compiles")
}

// A value-taking option followed by another option is an error, as in
// auto_livepatch.sh ("X needs at least one argument"): pflag alone would
// take "-o -R" as the output directory "-R" and build a replace module.
func TestValueOptionFollowedByOption(t *testing.T) {
	t.Chdir(t.TempDir())
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-o", "-R", "-p", c.patch}, "ERROR: -o needs a value, not the option -R\n"},
		{[]string{"--output", "--rpm", "-p", c.patch}, "ERROR: --output needs a value, not the option --rpm\n"},
		{[]string{"-p", "-R", c.patch}, "ERROR: -p needs a value, not the option -R\n"},
		{[]string{"-p", c.patch, "-k", "-n", "x"}, "ERROR: -k needs a value, not the option -n\n"},
	} {
		err := c.run(tc.args...)
		require.Error(t, err, "%q", tc.args)
		assert.Equal(t, tc.msg, c.err.String(), "%q", tc.args)
		assert.Nil(t, c.got, "%q: nothing built", tc.args)
	}
	assert.NoDirExists(t, "-R", "no directory named after an option")
	assert.NoDirExists(t, "--rpm", "no directory named after an option")
}

// buildReport is e as build.Run reports it.
func buildReport(e build.Event) klpkit.Progress {
	return klpkit.Progress{Op: klpkit.OpBuild, Step: string(e.Stage), Message: e.Message,
		Done: int64(e.Done), Total: int64(e.Total), Detail: e}
}
