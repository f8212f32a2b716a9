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
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
