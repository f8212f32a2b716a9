// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/toolchain"
)

// planSource is a tree whose source provides its kernel's toolchain and,
// when plan is set, names the root it would provide.
type planSource struct {
	tree    *Tree
	provide func(ctx context.Context, compiler, cacheDir string) (*toolchain.Root, error)
	plan    func(ctx context.Context, compiler, cacheDir string) (*ToolchainPlan, error)
}

func (s planSource) Tree(context.Context) (*Tree, error) { return s.tree, nil }
func (s planSource) Capabilities() Capabilities {
	return Capabilities{Toolchain: s.provide, ToolchainPlan: s.plan}
}

var planList = toolchain.List{
	{Name: "binutils", Version: "2.39-1.ph5", Arch: "x86_64", SHA256: "aa", Size: 7_000_000, URL: "http://repo/x86_64/binutils-2.39-1.ph5.x86_64.rpm"},
	{Name: "gcc", Version: "12.2.0-2.ph5", Arch: "x86_64", SHA256: "bb", Size: 40_000_000, URL: "http://repo/x86_64/gcc-12.2.0-2.ph5.x86_64.rpm"},
}

// A dry run (Check) in auto mode provisions no root: it names the root
// the source would provide, uses it when the cache holds it, and
// otherwise leaves the compiler check to Run; a source that cannot name
// its root is planned by the compiler alone. Run provisions as before.
func TestSetupToolchainDryRun(t *testing.T) {
	hostCC := fakeCompiler(t, "gcc (Debian 12.2.0-14) 12.2.0")
	tree := openTempDir(t)
	cache := filepath.Join(tree, "cache")
	cachedRoot := t.TempDir()
	const kernelCC = "gcc (GCC) 12.2.0"
	for _, tc := range []struct {
		name     string
		dryRun   bool
		noPlan   bool
		cached   bool
		wantRoot string // "" none
		wantPlan bool
		wantPkgs int
	}{
		{name: "dry run, root not cached", dryRun: true, wantPlan: true, wantPkgs: 2},
		{name: "dry run, root cached", dryRun: true, cached: true, wantRoot: cachedRoot, wantPlan: true, wantPkgs: 2},
		{name: "dry run, source names no root", dryRun: true, noPlan: true, wantPlan: true},
		{name: "run provisions", wantRoot: "provided"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var provided, planned []string
			src := planSource{tree: &Tree{Dir: tree}, provide: func(_ context.Context, compiler, cacheDir string) (*toolchain.Root, error) {
				provided = append(provided, compiler, cacheDir)
				return &toolchain.Root{Dir: filepath.Join(tree, "provided")}, nil
			}}
			if !tc.noPlan {
				src.plan = func(_ context.Context, compiler, cacheDir string) (*ToolchainPlan, error) {
					planned = append(planned, compiler, cacheDir)
					dir := filepath.Join(cacheDir, "photon", "roots", "x")
					if tc.cached {
						dir = cachedRoot
					}
					return NewToolchainPlan(compiler, "http://repo", dir, tc.cached, planList), nil
				}
			}
			r := &runner{
				opts: Options{Source: src, Toolchain: Toolchain{Mode: ToolchainAuto, CacheDir: cache}},
				tree: Tree{Release: "6.1.10-1.ph5", Dir: tree, KbuildDir: tree, MakeArgs: []string{"CC=" + hostCC}},
				log:  slog.New(slog.DiscardHandler), work: tree, dryRun: tc.dryRun,
			}
			err := r.setupToolchain(t.Context(), kconfig{"CONFIG_CC_VERSION_TEXT": kernelCC})
			if os.Geteuid() != 0 {
				// As Run: a root that could not be used is neither
				// provisioned nor looked up.
				require.ErrorIs(t, err, toolchain.ErrNeedsRoot)
				require.ErrorIs(t, err, ErrToolchainUnavailable)
				assert.Empty(t, provided)
				assert.Empty(t, planned)
				return
			}
			require.NoError(t, err)
			if tc.dryRun {
				assert.Empty(t, provided, "a dry run provisions nothing")
			}
			if tc.wantRoot == "" {
				assert.Nil(t, r.root)
			} else {
				require.NotNil(t, r.root)
				assert.Equal(t, filepath.Base(tc.wantRoot), filepath.Base(r.root.root.Dir))
			}
			if !tc.wantPlan {
				assert.Nil(t, r.toolchainPlan)
				assert.Equal(t, []string{"(GCC) 12.2.0", cache}, provided)
				return
			}
			require.NotNil(t, r.toolchainPlan)
			p := r.toolchainPlan
			assert.Equal(t, "(GCC) 12.2.0", p.Compiler)
			assert.Len(t, p.Packages, tc.wantPkgs)
			assert.Equal(t, tc.cached, p.Cached)
			assert.Equal(t, !tc.cached, r.unprovisioned())
			if !tc.noPlan {
				assert.Equal(t, []string{"(GCC) 12.2.0", cache}, planned)
			}
		})
	}
}

// Check of a kernel whose compiler the host lacks names the root Run
// would provision, downloads nothing, and plans with the kernel's
// compiler; Run with the same options provisions it.
func TestCheckPlansToolchainRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a toolchain root needs root: not root, Check refuses as Run does (TestSetupToolchainDryRun)")
	}
	config := goodConfig + "CONFIG_CC_VERSION_TEXT=\"gcc (GCC) 12.2.0\"\n"
	dir := fakeTree(t, config)
	var provided int
	src := planSource{
		tree: &Tree{Release: "6.1.10-1.ph5", Dir: dir, SystemMap: "unused", MakeArgs: []string{"CC=" + fakeCompiler(t, "gcc (Debian 12.2.0-14) 12.2.0")}},
		provide: func(context.Context, string, string) (*toolchain.Root, error) {
			provided++
			return nil, os.ErrPermission // stands for the download Check must not make
		},
		plan: func(_ context.Context, compiler, cacheDir string) (*ToolchainPlan, error) {
			return NewToolchainPlan(compiler, "Photon 5.0 repositories http://repo", filepath.Join(cacheDir, "root"), false, planList), nil
		},
	}
	out, cache := filepath.Join(t.TempDir(), "out"), t.TempDir()
	opts := Options{Source: src, Patches: []string{writePatch(t, fakePatch)}, OutputDir: out, WorkDir: t.TempDir(),
		Toolchain: Toolchain{Mode: ToolchainAuto, CacheDir: cache}}
	plan, err := Check(t.Context(), opts)
	require.NoError(t, err)
	assert.Zero(t, provided, "Check provisions nothing")
	assert.Equal(t, "(GCC) 12.2.0", plan.Compiler, "the compiler the root would provide")
	require.NotNil(t, plan.Toolchain)
	assert.Equal(t, &ToolchainPlan{Compiler: "(GCC) 12.2.0", From: "Photon 5.0 repositories http://repo", Dir: filepath.Join(cache, "root"),
		Packages: []ToolchainPackage{
			{Name: "binutils", Version: "2.39-1.ph5", Arch: "x86_64", URL: planList[0].URL, Size: 7_000_000},
			{Name: "gcc", Version: "12.2.0-2.ph5", Arch: "x86_64", URL: planList[1].URL, Size: 40_000_000},
		}}, plan.Toolchain)
	assert.Equal(t, int64(47_000_000), plan.Toolchain.Download())
	assert.Equal(t, `toolchain root of "(GCC) 12.2.0" (not provisioned: 2 package(s), 47.0 MB to download) at `+filepath.Join(cache, "root")+" from Photon 5.0 repositories http://repo", plan.Toolchain.String())
	assert.Equal(t, []string{"fs/a.o"}, plan.Objects)

	_, err = Run(t.Context(), opts)
	require.ErrorIs(t, err, os.ErrPermission)
	require.ErrorIs(t, err, ErrToolchainUnavailable)
	assert.Equal(t, 1, provided, "Run provisions")
}

func TestToolchainPlanString(t *testing.T) {
	cached := NewToolchainPlan("(GCC) 12.2.0", "Debian bookworm (http://deb.debian.org/debian)", "/c/roots/k", true, planList)
	assert.Zero(t, cached.Download())
	assert.Equal(t, `toolchain root of "(GCC) 12.2.0" (cached, 2 package(s)) at /c/roots/k from Debian bookworm (http://deb.debian.org/debian)`, cached.String())
	bare := &ToolchainPlan{Compiler: "(GCC) 12.2.0", From: "the kernel's source"}
	assert.Equal(t, `toolchain root of "(GCC) 12.2.0" (not provisioned) from the kernel's source`, bare.String())
}
