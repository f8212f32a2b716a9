// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
)

func TestBuildReadRoundTrip(t *testing.T) {
	raw := buildBytes(t, testPackage())
	info, err := Inspect(context.Background(), bytes.NewReader(raw), nil)
	require.NoError(t, err)

	assert.Equal(t, "livepatch-cve-2024-1234", info.Name)
	assert.Equal(t, "2", info.Version)
	assert.Equal(t, "3.ph5", info.Release)
	assert.Equal(t, "x86_64", info.Arch)
	assert.Equal(t, "linux", info.OS)
	assert.False(t, info.Source)
	assert.Equal(t, "livepatch-cve-2024-1234-2-3.ph5.src.rpm", info.SourceRPM)
	assert.Equal(t, DefaultSummary, info.Summary)
	assert.Contains(t, info.Description, "6.1.83-5.ph5")
	assert.Equal(t, DefaultVendor, info.Vendor)
	assert.Equal(t, DefaultGroup, info.Group)
	assert.Equal(t, DefaultLicense, info.License)
	assert.Equal(t, DefaultDistro, info.Distribution)
	assert.Equal(t, testEpoch, info.BuildTime)
	assert.Equal(t, "gzip", info.PayloadCompressor)
	assert.Equal(t, []string{"kpatch"}, info.Requires)
	assert.Contains(t, info.Provides, "livepatch-cve-2024-1234 = 2-3.ph5")
	assert.False(t, info.Signed)
	assert.True(t, info.Digests.HeaderVerified)
	assert.True(t, info.Digests.PayloadVerified)
	assert.Equal(t, "sha256", info.Digests.PayloadAlgo)

	require.Len(t, info.Files, 3)
	wantFiles := []struct {
		name string
		mode fs.FileMode
	}{
		{"/var/opt/kpatch", fs.ModeDir | 0o755},
		{"/var/opt/kpatch/modules", fs.ModeDir | 0o755},
		{"/var/opt/kpatch/modules/livepatch-cve-2024-1234.ko", 0o644},
	}
	for i, w := range wantFiles {
		f := info.Files[i]
		assert.Equal(t, w.name, f.Name)
		assert.Equal(t, w.mode, f.Mode, f.Name)
		assert.Equal(t, "root", f.Owner)
		assert.Equal(t, "root", f.Group)
		assert.Equal(t, testEpoch, f.MTime)
	}
	ko := info.Files[2]
	assert.Equal(t, int64(len(testPackage().Module)), ko.Size)
	sum := sha256.Sum256(testPackage().Module)
	assert.Equal(t, hex.EncodeToString(sum[:]), ko.Digest)

	assert.Contains(t, info.Scripts.Pre, "target='6.1.83-5.ph5'")
	assert.Contains(t, info.Scripts.Post, "kpatch load \"$ko\"")
	assert.Contains(t, info.Scripts.PreUn, "kpatch unload \"$mod\"")
	assert.Contains(t, info.Scripts.PreUn, "mod='livepatch_cve_2024_1234'")
	assert.Empty(t, info.Scripts.PostUn)
}

func TestBuildReproducible(t *testing.T) {
	for _, comp := range []string{"", "xz", "lzma", "zstd"} {
		p := testPackage()
		p.Compressor = comp
		a, b := buildBytes(t, p), buildBytes(t, p)
		assert.Equal(t, a, b, "compressor %q: same inputs, different bytes", comp)
		p.BuildTime = testEpoch.Add(1e9)
		assert.NotEqual(t, a, buildBytes(t, p), "compressor %q: BuildTime ignored", comp)
	}
}

func TestPackageFileName(t *testing.T) {
	tests := []struct {
		p    Package
		want string
	}{
		{Package{Name: "test", Version: "2", Release: "3", Kernel: "5.10.118-rt67-3.ph4-rt"}, "test-2-3.ph4.x86_64.rpm"},
		{Package{Name: "lp", Kernel: "6.1.83-5.ph5"}, "lp-1-1.ph5.x86_64.rpm"},
		{Package{Name: "lp", Kernel: "4.19.247-11.ph3-rt", Dist: ".ph3"}, "lp-1-1.ph3.x86_64.rpm"},
		{Package{Name: "lp", Kernel: "6.1.0-custom", Dist: "ph5"}, "lp-1-1.ph5.x86_64.rpm"},
		{Package{Name: "lp", Kernel: "6.1.0-custom", Dist: "5.0"}, "lp-1-1.ph5.x86_64.rpm"},
		{Package{Name: "lp", Kernel: "4.19.325-1.ph3", Dist: "3"}, "lp-1-1.ph3.x86_64.rpm"},
		{Package{Name: "lp", Release: "4.ph5", Kernel: "6.1.83-5.ph5"}, "lp-1-4.ph5.x86_64.rpm"},
	}
	for _, tt := range tests {
		got, err := tt.p.FileName()
		require.NoError(t, err)
		assert.Equal(t, tt.want, got)
	}
}

func TestBuildRejectsBadInput(t *testing.T) {
	tests := map[string]func(p *Package){
		"empty name":        func(p *Package) { p.Name = "" },
		"name with space":   func(p *Package) { p.Name = "a b" },
		"name with quote":   func(p *Package) { p.Name = "a'b" },
		"kernel with shell": func(p *Package) { p.Kernel = "6.1.83-5.ph5;reboot" },
		"kernel no dist":    func(p *Package) { p.Kernel = "6.1.0-13-amd64" },
		"bad dist":          func(p *Package) { p.Dist = "fc39" },
		"no module":         func(p *Package) { p.Module = nil },
		"missing module":    func(p *Package) { p.Module, p.ModulePath = nil, "/nonexistent/x.ko" },
		"version with dash": func(p *Package) { p.Version = "1-2" },
		"bad requires":      func(p *Package) { p.Requires = []string{"kpatch != 3"} },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			p := testPackage()
			mutate(&p)
			var buf bytes.Buffer
			err := Build(&buf, p)
			require.Error(t, err)
			assert.Zero(t, buf.Len(), "nothing written on error")
			if name != "missing module" {
				assert.True(t, errors.Is(err, ErrInvalidSpec), "%v", err)
			}
		})
	}
}

func TestDescriptionFromFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "desc.txt")
	require.NoError(t, os.WriteFile(f, []byte("Fixes the frobnicator.\nSecond line.\n"), 0o644))
	p := testPackage()
	p.DescriptionPath = f
	info, err := Read(bytes.NewReader(buildBytes(t, p)))
	require.NoError(t, err)
	assert.Equal(t, "Fixes the frobnicator.\nSecond line.", info.Description)

	p.DescriptionPath = filepath.Join(t.TempDir(), "missing")
	assert.Error(t, Build(io.Discard, p))
}

// Build reads the module: anything but a livepatch module for the target
// kernel is refused with an error naming the file and the problem.
func TestBuildRefusesModule(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		f := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(f, b, 0o644))
		return f
	}
	plain := kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "e1000", Vermagic: "6.1.83-5.ph5 SMP mod_unload "})
	tests := []struct {
		name   string
		path   string
		module []byte
		is     error
		says   string
	}{
		{name: "garbage bytes", path: write("garbage.ko", []byte("this is not a module\x00\x01")),
			is: kmod.ErrBadModule, says: "garbage.ko: not a livepatch module for the target kernel: not a valid kernel module: not an ELF file"},
		{name: "garbage in memory", module: []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0},
			is: kmod.ErrBadModule, says: `module (8 bytes given for package "livepatch-cve-2024-1234"): not a livepatch module`},
		{name: "not a livepatch module", path: write("e1000.ko", plain),
			is: kmod.ErrNotLivepatch, says: "e1000.ko: not a livepatch module for the target kernel: not a livepatch module: e1000 has no livepatch=Y in .modinfo"},
		{name: "another kernel", path: write("lp-other.ko", testModule("lp_other", "6.1.83-4.ph5", "")),
			is: kmod.ErrVermagic, says: `lp-other.ko: not a livepatch module for the target kernel: lp_other: vermagic mismatch: module has "6.1.83-4.ph5 SMP preempt mod_unload modversions ", kernel is "6.1.83-5.ph5"`},
		{name: "another flavor", module: testModule("lp_rt", "6.1.83-5.ph5-rt", ""),
			is: kmod.ErrVermagic, says: `module has "6.1.83-5.ph5-rt SMP`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPackage()
			p.Module, p.ModulePath = tt.module, tt.path
			var buf bytes.Buffer
			err := Build(&buf, p)
			require.ErrorIs(t, err, ErrInvalidModule)
			require.ErrorIs(t, err, tt.is)
			var me *ModuleError
			require.ErrorAs(t, err, &me)
			if tt.path != "" {
				assert.Equal(t, tt.path, me.Module)
			}
			assert.Contains(t, err.Error(), tt.says)
			assert.Zero(t, buf.Len(), "nothing written on error")
		})
	}

	// A vermagic mismatch says which kernel the module was built for.
	p := testPackage()
	p.Module = testModule("lp", "6.1.83-4.ph5", "")
	var ve *kmod.VermagicError
	require.ErrorAs(t, Build(io.Discard, p), &ve)
	assert.Equal(t, "6.1.83-4.ph5", strings.Fields(ve.Have)[0])
	assert.Equal(t, "6.1.83-5.ph5", ve.Want)
}

// The scriptlets name the module's own in-kernel name, not one derived from
// the package name: a .ko called livepatch_cve_2024_1 packaged as
// livepatch-fix is unloaded as livepatch_cve_2024_1 by rpm -e.
func TestBuildTakesModuleNameFromModule(t *testing.T) {
	tests := []struct {
		pkg, module, want string
	}{
		{pkg: "livepatch-fix", module: "livepatch_cve_2024_1", want: "livepatch_cve_2024_1"},
		{pkg: "livepatch-cve-2024-1234", module: "livepatch_cve_2024_1234", want: "livepatch_cve_2024_1234"},
		// The kernel spells '-' as '_' in module names.
		{pkg: "lp", module: "livepatch-dash-name", want: "livepatch_dash_name"},
	}
	for _, tt := range tests {
		t.Run(tt.pkg+"/"+tt.module, func(t *testing.T) {
			p := testPackage()
			p.Name = tt.pkg
			p.Module = testModule(tt.module, p.Kernel, "")
			info, err := Read(bytes.NewReader(buildBytes(t, p)))
			require.NoError(t, err)
			assert.Contains(t, info.Scripts.PreUn, "mod='"+tt.want+"'\n")
			assert.Contains(t, info.Scripts.Post, "mod='"+tt.want+"'\n")
			assert.Contains(t, info.Scripts.PreUn, "installed='"+tt.pkg+"'\n", "uninstall names the installed file")
			assert.Contains(t, info.Description, "Livepatch module "+tt.want+" ")
			assert.Equal(t, ModuleDir+"/"+tt.pkg+".ko", info.Files[2].Name)
		})
	}

	// ModuleName may confirm the module's name, in either spelling, but
	// not contradict it.
	p := testPackage()
	p.Name, p.Module = "livepatch-fix", testModule("livepatch_cve_2024_1", p.Kernel, "")
	p.ModuleName = "livepatch-cve-2024-1"
	_, err := p.Spec()
	require.NoError(t, err)
	p.ModuleName = "livepatch_fix"
	err = Build(io.Discard, p)
	require.ErrorIs(t, err, ErrInvalidSpec)
	assert.Contains(t, err.Error(), `ModuleName is "livepatch_fix" but the module calls itself "livepatch_cve_2024_1"`)
}
