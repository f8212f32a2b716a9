// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bytes"
	"debug/elf"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
)

func TestCheckTreeMatches(t *testing.T) {
	cfg := "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n"
	dir := fakeTree(t, cfg)
	other := filepath.Join(t.TempDir(), "config")
	writeFile(t, other, cfg)
	tree := &Tree{Release: "6.1.0-56-amd64", Dir: dir, Config: other, KbuildDir: dir}
	require.NoError(t, checkTreeMatches(tree, parseKconfig([]byte(cfg))))

	err := checkTreeMatches(tree, parseKconfig([]byte(cfg+"CONFIG_X=y\n")))
	require.ErrorIs(t, err, ErrTreeMismatch)
	assert.Contains(t, err.Error(), "CONFIG_X")

	writeFile(t, filepath.Join(dir, "include/config/kernel.release"), "6.1.0-55-amd64\n")
	err = checkTreeMatches(tree, parseKconfig([]byte(cfg)))
	require.ErrorIs(t, err, ErrTreeMismatch)
	assert.Contains(t, err.Error(), "6.1.0-55-amd64")
	tree.MakeArgs = []string{"KERNELRELEASE=6.1.0-56-amd64"}
	require.NoError(t, checkTreeMatches(tree, parseKconfig([]byte(cfg))), "an explicit KERNELRELEASE wins")
}

func TestKernelReleaseErrors(t *testing.T) {
	_, err := KernelRelease(filepath.Join(t.TempDir(), "missing"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	notELF := filepath.Join(t.TempDir(), "vmlinux")
	writeFile(t, notELF, "Linux version 6.1.0 (not an ELF)")
	_, err = KernelRelease(notELF)
	var fe *elf.FormatError
	require.ErrorAs(t, err, &fe)
}

const debianBanner = "\x00\x00Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2\n\x00"

func TestBannerRelease(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{debianBanner, "6.1.0-56-amd64"},
		{"Linux version 6.1.118-7.ph5 (root@photon) #1-photon SMP", "6.1.118-7.ph5"},
		{"%s Linux version %s (%s)\x00Linux version 5.10.118-rt67-3.ph4-rt (x) #1", "5.10.118-rt67-3.ph4-rt"},
		{"Linux version ", ""},
		{"Linux version 6.1\x00", ""},
		{"no banner here", ""},
	} {
		assert.Equal(t, c.want, bannerRelease([]byte(c.in)), "%q", c.in)
	}
}

// elfWithSection is a minimal ELF file with one section, name, holding data.
func elfWithSection(t testing.TB, name, data string) []byte {
	t.Helper()
	f := &elfobj.File{Machine: elf.EM_X86_64, Symbols: []*elfobj.Symbol{{}}, Sections: []*elfobj.Section{
		{Name: name, Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC, Addralign: 1, Data: []byte(data), Size: uint64(len(data))},
	}}
	var b bytes.Buffer
	require.NoError(t, elfobj.Write(&b, f))
	return b.Bytes()
}

func TestKernelReleaseFromRodata(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vmlinux")
	require.NoError(t, os.WriteFile(path, elfWithSection(t, ".rodata", debianBanner), 0o644))
	rel, err := KernelRelease(path)
	require.NoError(t, err)
	assert.Equal(t, "6.1.0-56-amd64", rel)

	require.NoError(t, os.WriteFile(path, elfWithSection(t, ".data", debianBanner), 0o644))
	_, err = KernelRelease(path)
	require.ErrorContains(t, err, "no .rodata section")
}

// FuzzKernelRelease: the banner reader never panics on hostile files. A recovered panic
// (ErrInternal) is a crash too.
func FuzzKernelRelease(f *testing.F) {
	f.Add([]byte(debianBanner))
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add(elfWithSection(f, ".rodata", debianBanner)) // reaches the .rodata reader
	f.Add(elfWithSection(f, ".data", debianBanner))   // an ELF file without .rodata
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "vmlinux")
		require.NoError(t, os.WriteFile(path, data, 0o644))
		rel, err := KernelRelease(path)
		if errors.Is(err, ErrInternal) {
			t.Fatalf("KernelRelease crashed on %d bytes: %v", len(data), err)
		}
		if err == nil {
			assert.True(t, validRelease([]byte(rel)))
		}
		if rel := bannerRelease(data); rel != "" {
			assert.True(t, validRelease([]byte(rel)))
		}
	})
}
