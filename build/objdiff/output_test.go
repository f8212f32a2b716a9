// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// checkObjectTools runs readelf, objdump and ld -r on an object and fails
// on any complaint.
func checkObjectTools(t *testing.T, path string) {
	t.Helper()
	for _, tool := range []string{"readelf", "objdump", "ld"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (binutils)", tool)
		}
	}
	for _, args := range [][]string{
		{"readelf", "-a", "-W", path},
		{"readelf", "--debug-dump=info,abbrev,line", path},
		{"objdump", "-dr", path},
		{"ld", "-r", "-o", path + ".linked.o", path},
	} {
		cmd := exec.Command(args[0], args[1:]...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.Output()
		require.NoError(t, err, "%v: %s", args, stderr.String())
		require.Empty(t, stderr.String(), "%v complained", args)
		require.NotContains(t, string(stdout), "Warning", "%v", args)
	}
}

// TestCorpusOutputObjects writes the patch object of every successful
// corpus case and checks that binutils accept it and that it holds what
// the Result says.
func TestCorpusOutputObjects(t *testing.T) {
	dir, cases := loadCorpus(t)
	tmp := t.TempDir()
	for _, c := range cases {
		if c.Expect != "changed" {
			continue
		}
		t.Run(c.Case, func(t *testing.T) {
			res, err := diffCorpusCase(t, dir, c)
			require.NoError(t, err)
			path := filepath.Join(tmp, c.Case+".o")
			require.NoError(t, res.WriteFile(path))
			checkObjectTools(t, path)
			f, err := elfobj.Read(mustOpen(t, path))
			require.NoError(t, err)
			for _, fn := range res.Changed {
				s := f.Symbol(fn.Name)
				require.NotNil(t, s, "changed function %s in output", fn.Name)
				require.NotNil(t, s.Section, "changed function %s defined", fn.Name)
				require.Equal(t, "STB_LOCAL", s.Bind.String(), "changed functions are local in the patch object")
			}
			for _, r := range res.Relocations {
				s := f.Symbol(r.Symbol)
				require.NotNil(t, s, "relocation target %s", r.Symbol)
				require.True(t, s.IsUndefined(), "relocation target %s undefined", r.Symbol)
			}
			_, err = os.Stat(path + ".linked.o")
			require.NoError(t, err)
		})
	}
}
