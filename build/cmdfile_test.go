// SPDX-License-Identifier: Apache-2.0

package build

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdata/cmdline.o.cmd is kbuild's record of fs/proc/cmdline.o from the
// lab kernel's tree (Debian 6.1, gcc-12).
func readFixtureCmd(t *testing.T) *cmdFile {
	t.Helper()
	data, err := os.ReadFile("testdata/cmdline.o.cmd")
	require.NoError(t, err)
	c, err := parseCmdFile(data, "fs/proc/cmdline.o")
	require.NoError(t, err)
	return c
}

func TestParseCmdFile(t *testing.T) {
	c := readFixtureCmd(t)
	assert.Equal(t, "fs/proc/cmdline.c", c.Source)
	require.Len(t, c.Steps, 2, "compiler and objtool")
	assert.Equal(t, "gcc-12", c.Steps[0][0])
	assert.Contains(t, c.Steps[0], `-DKBUILD_MODNAME="proc"`, "shell quotes removed")
	assert.Equal(t, "./tools/objtool/objtool", c.Steps[1][0])
	assert.Contains(t, c.Deps, "include/linux/seq_file.h")
	assert.Contains(t, c.Deps, "include/linux/compiler-version.h")
	for _, d := range c.Deps {
		assert.False(t, strings.HasPrefix(d, "$("), "make functions are not files: %s", d)
	}
	assert.Equal(t, "vmlinux", targetOf(c))
}

func TestParseCmdFileErrors(t *testing.T) {
	for name, data := range map[string]string{
		"empty":            "",
		"other object":     "cmd_fs/other.o := gcc -c -o fs/other.o fs/other.c\n",
		"unterminated ' ":  "cmd_a.o := gcc -c -o a.o 'a.c\n",
		"unterminated \" ": "cmd_a.o := gcc -c -o a.o \"a.c\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseCmdFile([]byte(data), "a.o")
			require.Error(t, err)
			assert.Contains(t, err.Error(), "a.o")
		})
	}
}

func TestSplitShell(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want [][]string
	}{
		{"gcc -c a.c", [][]string{{"gcc", "-c", "a.c"}}},
		{`gcc -DX='"y z"' -o a.o a.c ; objtool a.o`, [][]string{{"gcc", `-DX="y z"`, "-o", "a.o", "a.c"}, {"objtool", "a.o"}}},
		{`echo "a \"b\" \$c" x\ y`, [][]string{{"echo", `a "b" $c`, "x y"}}},
		{"  ;; a ;", [][]string{{"a"}}},
		{`''`, [][]string{{""}}},
	} {
		got, err := splitShell(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestUnescapeMake(t *testing.T) {
	assert.Equal(t, `a $b #c`, unescapeMake(`a $$b \#c`))
}

func TestTargetOfModule(t *testing.T) {
	c := &cmdFile{Steps: [][]string{{"gcc", "-DMODULE", `-DKBUILD_MODNAME="nf-conntrack"`, "-c", "-o", "x.o", "x.c"}}}
	assert.Equal(t, "nf_conntrack", targetOf(c))
}

func TestCompileStepsOriginal(t *testing.T) {
	c := readFixtureCmd(t)
	steps, err := compileSteps(c, "/work/orig/cmdline.o", nil)
	require.NoError(t, err)
	require.Len(t, steps, 2)
	cc := steps[0]
	assert.Equal(t, []string{"gcc-12", "-ffunction-sections", "-fdata-sections"}, cc[:3])
	assert.Equal(t, "/work/orig/cmdline.o", cc[slices.Index(cc, "-o")+1])
	assert.Equal(t, "fs/proc/cmdline.c", cc[len(cc)-1])
	for _, a := range cc {
		assert.False(t, strings.HasPrefix(a, "-Wp,-MMD"), "kbuild's dependency file is not written")
	}
	assert.Equal(t, "/work/orig/cmdline.o", steps[1][len(steps[1])-1], "objtool runs on the output")
}

func TestCompileStepsOverlay(t *testing.T) {
	c := readFixtureCmd(t)
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "include/linux"), 0o755))
	ov := &overlay{dir: dir, files: map[string]bool{"fs/proc/cmdline.c": true, "include/linux/kconfig.h": true}}
	steps, err := compileSteps(c, "/out.o", ov)
	require.NoError(t, err)
	cc := steps[0]
	assert.Contains(t, cc, "-fmacro-prefix-map="+dir+"/=", "__FILE__ keeps its tree-relative spelling")
	assert.Equal(t, filepath.Join(dir, "fs/proc/cmdline.c"), cc[len(cc)-1])
	inc := slices.Index(cc, "-I"+filepath.Join(dir, "include"))
	require.GreaterOrEqual(t, inc, 0, "overlay include dir added")
	assert.Equal(t, "-I./include", cc[inc+1], "and searched before the tree's")
	assert.Contains(t, cc, filepath.Join(dir, "include/linux/kconfig.h"), "forced include from the overlay")
	assert.Contains(t, cc, "-iquote")
}

// Linux 4.19 kbuild (Photon 3.0) runs recordmcount inside shell
// conditionals after the compiler.
func TestCompileStepsRecordmcount(t *testing.T) {
	c, err := parseCmdFile([]byte(`cmd_fs/a.o := gcc -Wp,-MD,fs/.a.o.d -pg -c -o fs/a.o fs/a.c ; if [ "-pg" = "-pg" ]; then if [ fs/a.o != "scripts/mod/empty.o" ]; then ./scripts/recordmcount  "fs/a.o"; fi; fi;`+"\n"), "fs/a.o")
	require.NoError(t, err)
	steps, err := compileSteps(c, "/out/a.o", nil)
	require.NoError(t, err)
	require.Len(t, steps, 2)
	assert.Equal(t, []string{"./scripts/recordmcount", "/out/a.o"}, steps[1])
}

func TestCompileStepsNoCompiler(t *testing.T) {
	_, err := compileSteps(&cmdFile{Object: "a.o", Steps: [][]string{{"ld", "-r", "a.o"}}}, "/o", nil)
	require.ErrorContains(t, err, "no compiler step in the kbuild command of a.o")
}

func FuzzParseCmdFile(f *testing.F) {
	data, err := os.ReadFile("testdata/cmdline.o.cmd")
	require.NoError(f, err)
	f.Add(data)
	f.Add([]byte("cmd_a.o := gcc -c -o a.o a.c ; objtool a.o\ndeps_a.o := \\\n  x.h \\\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseCmdFile(data, "fs/proc/cmdline.o")
		if err != nil {
			return
		}
		compileSteps(c, "/out.o", nil) //nolint:errcheck // must not panic
	})
}
