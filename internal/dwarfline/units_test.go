// SPDX-License-Identifier: Apache-2.0

package dwarfline

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linked compiles testdata/two.c into a relocatable object and an
// executable, as a kernel's module debug file and vmlinux are.
func linked(t testing.TB) (obj, exe []byte) {
	t.Helper()
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("needs gcc to compile the test object")
	}
	dir := t.TempDir()
	src, err := filepath.Abs("testdata/two.c")
	require.NoError(t, err)
	for _, args := range [][]string{{"-c", "-o", "two.o"}, {"-nostdlib", "-static", "-Wl,-e,0", "-Wl,--unresolved-symbols=ignore-all", "-o", "two"}} {
		cmd := exec.Command(cc, append(append([]string{"-O2", "-g"}, args...), src)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	obj, err = os.ReadFile(filepath.Join(dir, "two.o"))
	require.NoError(t, err)
	exe, err = os.ReadFile(filepath.Join(dir, "two"))
	require.NoError(t, err)
	return obj, exe
}

func TestUnits(t *testing.T) {
	obj, exe := linked(t)
	src, err := filepath.Abs("testdata/two.c")
	require.NoError(t, err)
	for name, data := range map[string][]byte{"relocatable": obj, "linked": exe} {
		units, err := Units(bytes.NewReader(data))
		require.NoError(t, err, name)
		require.Len(t, units, 1, name)
		assert.Equal(t, src, units[0].Name, name)
		assert.Contains(t, units[0].Files, src, name)
		assert.NotEmpty(t, units[0].CompDir, name)
	}

	_, err = Units(bytes.NewReader([]byte("not an ELF file")))
	require.Error(t, err)
}

func TestUnitEntryOffsets(t *testing.T) {
	unit := func(version uint16, rest ...byte) []byte {
		b := binary.LittleEndian.AppendUint32(nil, uint32(2+len(rest)))
		b = binary.LittleEndian.AppendUint16(b, version)
		return append(b, rest...)
	}
	v5 := unit(5, 0x01, 8, 0, 0, 0, 0, 1)        // compile unit: type, address size, abbrev offset, one entry
	v5type := unit(5, 0x02, 8, 0, 0, 0, 0, 0, 0) // a type unit holds no code
	v4 := unit(4, 0, 0, 0, 0, 8, 1)
	offs, err := unitEntryOffsets(append(append(append([]byte(nil), v5...), v5type...), v4...))
	require.NoError(t, err)
	assert.Len(t, offs, 2)
	assert.EqualValues(t, 12, offs[0])
	assert.EqualValues(t, len(v5)+len(v5type)+11, offs[1])

	for name, bad := range map[string][]byte{
		"truncated header": {1, 0},
		"past the end":     binary.LittleEndian.AppendUint32(nil, 1000),
		"version 9":        unit(9, 0, 0, 0, 0, 0),
		"empty":            nil,
	} {
		_, err := unitEntryOffsets(bad)
		assert.Error(t, err, name)
	}
}

func FuzzUnits(f *testing.F) {
	obj, exe := linked(f)
	f.Add(obj)
	f.Add(exe)
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := Units(bytes.NewReader(data)); err != nil {
			require.NotErrorIs(t, err, ErrInternal, "decoding %d bytes", len(data))
		}
	})
}
