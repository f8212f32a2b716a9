// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"context"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCompilerVersion(t *testing.T) {
	for in, want := range map[string]string{
		"GCC: (GCC) 10.5.0":              "10.5.0",
		"GCC: (Debian 12.2.0-14) 12.2.0": "12.2.0",
		"GCC: (GNU) 7.3.0":               "7.3.0",
		"GCC: something":                 "",
	} {
		assert.Equal(t, want, compilerVersion(in), in)
	}
}

func TestELFCompiler(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "vmlinux")
	require.NoError(t, os.WriteFile(good, fakeVmlinux("GCC: (GCC) 12.2.0"), 0o644))
	cc, err := ELFCompiler(good)
	require.NoError(t, err)
	assert.Equal(t, "GCC: (GCC) 12.2.0", cc)

	clang := filepath.Join(dir, "clang")
	require.NoError(t, os.WriteFile(clang, fakeVmlinux("clang version 17"), 0o644))
	_, err = ELFCompiler(clang)
	require.ErrorContains(t, err, "names no GCC")

	junk := filepath.Join(dir, "junk")
	require.NoError(t, os.WriteFile(junk, append([]byte("\x7fELF\x09"), make([]byte, 60)...), 0o644)) // ELF class 9
	_, err = ELFCompiler(junk)
	var fe *elf.FormatError
	require.ErrorAs(t, err, &fe)
}

func TestCheckCompilerVersionOnly(t *testing.T) {
	local := localCompiler(t)
	if local == "" {
		t.Skip("needs gcc")
	}
	dir := t.TempDir()
	// Same version, other vendor text: strict fails, version-only passes.
	other := "GCC: (Photon) " + compilerVersion(local)
	vmlinux := filepath.Join(dir, "vmlinux")
	require.NoError(t, os.WriteFile(vmlinux, fakeVmlinux(other), 0o644))
	_, err := CheckCompiler(context.Background(), vmlinux, "gcc", dir, false)
	require.ErrorIs(t, err, ErrCompilerMismatch)
	got, err := CheckCompiler(context.Background(), vmlinux, "gcc", dir, true)
	require.NoError(t, err)
	assert.Equal(t, other, got)

	require.NoError(t, os.WriteFile(vmlinux, fakeVmlinux("GCC: (GCC) 1.2.3"), 0o644))
	_, err = CheckCompiler(context.Background(), vmlinux, "gcc", dir, true)
	require.ErrorIs(t, err, ErrCompilerMismatch)

	_, err = CheckCompiler(context.Background(), vmlinux, "/nonexistent/cc", dir, true)
	require.ErrorContains(t, err, "compiler check")
}

// FuzzELFCompiler: whatever the file, ELFCompiler returns a string or an
// error describing the file, never a recovered panic (ErrInternal).
func FuzzELFCompiler(f *testing.F) {
	f.Add(fakeVmlinux("GCC: (GCC) 12.2.0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "x")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ELFCompiler(p); errors.Is(err, ErrInternal) {
			t.Fatalf("ELFCompiler crashed on %d bytes: %v", len(data), err)
		}
	})
}
