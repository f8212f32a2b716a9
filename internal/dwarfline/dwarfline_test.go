// SPDX-License-Identifier: Apache-2.0

package dwarfline

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
)

func compile(t testing.TB, extra ...string) *elfobj.File {
	t.Helper()
	cc := ""
	for _, c := range []string{"gcc-12", "gcc"} {
		if p, err := exec.LookPath(c); err == nil {
			cc = p
			break
		}
	}
	if cc == "" {
		t.Skip("needs gcc-12 (or gcc) to compile the test object")
	}
	out := filepath.Join(t.TempDir(), "two.o")
	args := append([]string{"-O2", "-g", "-ffunction-sections", "-fno-pic", "-c", "-o", out}, extra...)
	cmd := exec.Command(cc, append(args, "testdata/two.c")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	f, err := elfobj.Parse(data)
	require.NoError(t, err)
	return f
}

// sectionsOfLine returns the names of the sections holding code of line.
func sectionsOfLine(f *elfobj.File, rows []Row, line int) []string {
	byIndex := map[int]string{}
	for _, s := range f.Sections {
		byIndex[s.Index] = s.Name
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		if r.Line == line && strings.HasSuffix(r.File, "two.c") && !seen[byIndex[r.Section]] {
			seen[byIndex[r.Section]] = true
			out = append(out, byIndex[r.Section])
		}
	}
	return out
}

func TestReadKeepsSections(t *testing.T) {
	for _, flags := range [][]string{{"-gdwarf-5"}, {"-gdwarf-4"}, {"-gdwarf-5", "-gz=zlib"}} {
		t.Run(strings.Join(flags, " "), func(t *testing.T) {
			f := compile(t, flags...)
			rows, err := Read(f)
			require.NoError(t, err)
			require.NotEmpty(t, rows)
			// Line 7 (y * 3) is first's; line 12 (helper's body) is
			// inlined into second and nowhere else.
			require.Equal(t, []string{".text.first"}, sectionsOfLine(f, rows, 7))
			require.Equal(t, []string{".text.second"}, sectionsOfLine(f, rows, 12))
			for _, r := range rows {
				if r.Line == 17 {
					require.Less(t, r.Offset, uint64(64), "offsets are within the section")
				}
			}
		})
	}
}

func TestReadWithoutDebugInfo(t *testing.T) {
	f := compile(t, "-g0")
	_, err := Read(f)
	require.ErrorIs(t, err, ErrNoLineTable)
}

func TestReadRefusesOtherMachines(t *testing.T) {
	f := compile(t)
	f.Machine = elf.EM_AARCH64
	_, err := Read(f)
	require.ErrorContains(t, err, "only x86_64")
}

func TestReadDamagedRelocation(t *testing.T) {
	f := compile(t)
	line := f.Section(".debug_line")
	require.NotNil(t, line.Rela)
	line.Rela.Relas[0].Offset = uint64(len(line.Data)) + 100
	_, err := Read(f)
	require.ErrorContains(t, err, "past the end")
}

func FuzzRead(f *testing.F) {
	obj := compile(f)
	var buf bytes.Buffer
	require.NoError(f, elfobj.Write(&buf, obj))
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := elfobj.Parse(data)
		if err != nil {
			return
		}
		rows, err := Read(o)
		if err != nil {
			require.NotErrorIs(t, err, ErrInternal, "decoding %d bytes", len(data))
			return
		}
		_ = rows
	})
}
