// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// fakeVmlinux writes an ELF file whose .rodata holds rodata.
func fakeVmlinux(t testing.TB, dir string, rodata string) string {
	t.Helper()
	f := &elfobj.File{Machine: elf.EM_X86_64, Sections: []*elfobj.Section{
		{},
		{Name: ".rodata", Type: elf.SHT_PROGBITS, Flags: elf.SHF_ALLOC, Addralign: 1, Data: []byte(rodata), Size: uint64(len(rodata))},
	}, Symbols: []*elfobj.Symbol{{}}}
	var buf bytes.Buffer
	require.NoError(t, elfobj.Write(&buf, f))
	path := filepath.Join(dir, "vmlinux")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	return path
}

const debianBanner = "\x00\x00Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2\n\x00"

func TestTargetRelease(t *testing.T) {
	dir := t.TempDir()
	vmlinux := fakeVmlinux(t, dir, debianBanner)
	noBanner := fakeVmlinux(t, t.TempDir(), "nothing")
	tree := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(tree, "include/config"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tree, "include/config/kernel.release"), []byte("6.1.0-tree\n"), 0o644))

	rel, err := targetRelease("", vmlinux, tree)
	require.NoError(t, err)
	assert.Equal(t, "6.1.0-56-amd64", rel, "the banner wins over the tree")

	rel, err = targetRelease("6.1.0-56-amd64", vmlinux, tree)
	require.NoError(t, err)
	assert.Equal(t, "6.1.0-56-amd64", rel)

	_, err = targetRelease("6.1.0-99-amd64", vmlinux, tree)
	require.ErrorContains(t, err, "Kernel version mismatch: 6.1.0-99-amd64 was specified but "+vmlinux+" is 6.1.0-56-amd64")

	_, err = targetRelease("", noBanner, tree)
	require.ErrorContains(t, err, "no \"Linux version\" banner")

	rel, err = targetRelease("6.1.0-given", noBanner, tree)
	require.NoError(t, err, "-a is enough when the banner cannot be read")
	assert.Equal(t, "6.1.0-given", rel)

	rel, err = targetRelease("", "", tree)
	require.NoError(t, err)
	assert.Equal(t, "6.1.0-tree", rel, "System.map only: the tree's kernel.release")

	_, err = targetRelease("", "", t.TempDir())
	require.ErrorContains(t, err, "cannot tell the kernel release")

	notELF := filepath.Join(dir, "garbage")
	require.NoError(t, os.WriteFile(notELF, []byte("not an ELF file"), 0o644))
	_, err = targetRelease("", notELF, tree)
	require.ErrorContains(t, err, "vmlinux "+notELF)
}
