// SPDX-License-Identifier: Apache-2.0

package kmod_test

import (
	"bytes"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/klpkit/klpkit/internal/elfobj"
	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseModInfo(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    *kmod.ModInfo
		wantErr string
	}{
		{name: "empty", in: "", want: &kmod.ModInfo{}},
		{name: "padding only", in: "\x00\x00\x00", want: &kmod.ModInfo{}},
		{
			name: "livepatch",
			in:   "livepatch=Y\x00license=GPL\x00\x00depends=\x00retpoline=Y\x00name=livepatch_x\x00vermagic=6.1.0-56-amd64 SMP preempt mod_unload modversions \x00",
			want: &kmod.ModInfo{Name: "livepatch_x", Vermagic: "6.1.0-56-amd64 SMP preempt mod_unload modversions ", License: "GPL",
				Livepatch: true, Retpoline: true, Fields: []kmod.Field{
					{"livepatch", "Y"}, {"license", "GPL"}, {"depends", ""}, {"retpoline", "Y"},
					{"name", "livepatch_x"}, {"vermagic", "6.1.0-56-amd64 SMP preempt mod_unload modversions "}}},
		},
		{
			name: "repeated tags and depends list, no final NUL",
			in:   "alias=a\x00alias=b\x00depends=x,y,\x00intree=Y\x00description=d=e",
			want: &kmod.ModInfo{Description: "d=e", InTree: true, Depends: []string{"x", "y"}, Fields: []kmod.Field{
				{"alias", "a"}, {"alias", "b"}, {"depends", "x,y,"}, {"intree", "Y"}, {"description", "d=e"}}},
		},
		{name: "no equals", in: "license=GPL\x00garbage\x00", wantErr: `offset 12 ("garbage") is not tag=value`},
		{name: "empty tag", in: "=x\x00", wantErr: "not tag=value"},
		{name: "control char in tag", in: "li\x01c=x", wantErr: "bad character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := kmod.ParseModInfo([]byte(tc.in))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestModInfoRelease(t *testing.T) {
	mi := kmod.ModInfo{Vermagic: "6.1.0-56-amd64 SMP preempt mod_unload modversions "}
	assert.Equal(t, "6.1.0-56-amd64", mi.Release())
	assert.Equal(t, "", (&kmod.ModInfo{}).Release())
}

func FuzzParseModInfo(f *testing.F) {
	f.Add([]byte("livepatch=Y\x00license=GPL\x00name=x\x00vermagic=6.1 SMP \x00"))
	f.Add([]byte("\x00\x00=\x00a"))
	f.Add([]byte("depends=a,,b\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		mi, err := kmod.ParseModInfo(data)
		if err != nil {
			return
		}
		for _, fl := range mi.Fields {
			if fl.Key == "" {
				t.Fatalf("empty key accepted from %q", data)
			}
		}
		if v, ok := mi.Get("name"); ok && v != mi.Name {
			t.Fatalf("Name %q, first name field %q", mi.Name, v)
		}
	})
}

// modinfoOnly is a relocatable ELF file with a .modinfo section and no
// .gnu.linkonce.this_module.
func modinfoOnly(t testing.TB) []byte {
	t.Helper()
	modinfo := []byte("license=GPL\x00name=x\x00vermagic=6.1 SMP \x00")
	var b bytes.Buffer
	require.NoError(t, elfobj.Write(&b, &elfobj.File{Machine: elf.EM_X86_64, Symbols: []*elfobj.Symbol{{}}, Sections: []*elfobj.Section{
		{Name: ".modinfo", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC, Addralign: 1, Data: modinfo, Size: uint64(len(modinfo))},
	}}))
	return b.Bytes()
}

func TestParseModuleWithoutThisModule(t *testing.T) {
	m, err := kmod.ParseModule(modinfoOnly(t))
	require.NoError(t, err)
	assert.Equal(t, "x", m.Name, "the name comes from .modinfo")
}

func FuzzParseModule(f *testing.F) {
	f.Add(kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "x", Livepatch: true}))
	f.Add(kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "y", Signed: true}))
	xz, _ := kmodtest.Compress("a.xz", kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "z"}))
	f.Add(xz)
	f.Add([]byte("\x7fELF"))
	f.Add(modinfoOnly(f)) // no .gnu.linkonce.this_module
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := kmod.ParseModule(data) // must not panic, nor recover from one
		if errors.Is(err, kmod.ErrInternal) {
			t.Fatalf("ParseModule crashed on %d bytes: %v", len(data), err)
		}
		if err == nil && m.Name == "" {
			t.Fatal("module without a name accepted")
		}
	})
}

// TestReadModuleGCCFixture reads an object compiled by gcc from C, laid out
// like a real module (testdata/kmod/livepatch-fixture.c).
func TestReadModuleGCCFixture(t *testing.T) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("needs gcc (Debian package gcc) to build the ELF fixture")
	}
	dir := t.TempDir()
	src, err := filepath.Abs("../testdata/kmod/livepatch-fixture.c")
	require.NoError(t, err)
	for _, tc := range []struct{ file, compress string }{{"fixture.ko", ""}, {"fixture.ko.xz", "xz"}, {"fixture.ko.zst", "zst"}, {"fixture.ko.gz", "gz"}} {
		obj := filepath.Join(dir, "fixture.ko")
		out, err := exec.Command(gcc, "-c", "-O2", "-DFIXTURE_NAME=\"livepatch_gcc\"", "-o", obj, src).CombinedOutput()
		require.NoError(t, err, "%s", out)
		path := obj
		if tc.compress != "" {
			img, err := os.ReadFile(obj)
			require.NoError(t, err)
			data, err := kmodtest.Compress(tc.file, img)
			require.NoError(t, err)
			path = filepath.Join(dir, tc.file)
			require.NoError(t, os.WriteFile(path, data, 0o644))
		}
		m, err := kmod.ReadModule(path)
		require.NoError(t, err, tc.file)
		assert.Equal(t, "livepatch_gcc", m.Name)
		assert.True(t, m.Info.Livepatch)
		assert.True(t, m.Info.Retpoline)
		assert.Equal(t, "kmod test fixture", m.Info.Description)
		assert.Equal(t, "GPL", m.Info.License)
		assert.Equal(t, "6.1.0-56-amd64 SMP preempt mod_unload modversions ", m.Info.Vermagic)
		assert.Equal(t, tc.compress != "", m.Compression != kmod.CompressNone)
		assert.False(t, m.Signed)
	}
}

func TestParseModuleErrors(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":     nil,
		"text":      []byte("hello"),
		"bad xz":    append([]byte{0xfd, '7', 'z', 'X', 'Z', 0}, 1, 2, 3),
		"truncated": kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "x"})[:100],
	} {
		_, err := kmod.ParseModule(data)
		require.ErrorIs(t, err, kmod.ErrBadModule, name)
	}
}

func TestParseModuleSigned(t *testing.T) {
	m, err := kmod.ParseModule(kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "x", Signed: true}))
	require.NoError(t, err)
	assert.True(t, m.Signed)
}

func BenchmarkParseModInfo(b *testing.B) {
	data := []byte("livepatch=Y\x00license=GPL\x00depends=\x00retpoline=Y\x00name=livepatch_x\x00vermagic=6.1.0-56-amd64 SMP preempt mod_unload modversions \x00")
	for b.Loop() {
		if _, err := kmod.ParseModInfo(data); err != nil {
			b.Fatal(err)
		}
	}
}
