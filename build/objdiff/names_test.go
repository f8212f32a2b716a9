// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
	"github.com/klpkit/klpkit/internal/needtest"
)

// findClang returns Debian's clang, or skips (in CI it is installed, see
// .ci/packages.txt, so nothing skips there).
func findClang(t testing.TB) string {
	for _, cc := range []string{"clang-14", "clang"} {
		if path, err := exec.LookPath(cc); err == nil {
			return path
		}
	}
	needtest.Missing(t, "needs clang-14 (or clang) to compile the Clang variants of the C fixtures")
	return ""
}

// compileFixtureWith builds testdata/objdiff/NAME.c as original and
// patched objects with the given compiler and extra flags.
func compileFixtureWith(t testing.TB, cc, name string, flags ...string) (orig, patched string) {
	t.Helper()
	cflags := kernelCFlags
	if strings.Contains(filepath.Base(cc), "clang") {
		// Clang has no -mrecord-mcount (kbuild uses objtool for __mcount_loc).
		cflags = slices.DeleteFunc(slices.Clone(kernelCFlags), func(f string) bool { return f == "-mrecord-mcount" })
	}
	src := filepath.Join("..", "..", "testdata", "objdiff", name+".c")
	dir := t.TempDir()
	build := func(out string, extra ...string) string {
		path := filepath.Join(dir, out)
		args := append(append(append(slices.Clone(cflags), flags...), extra...), "-c", "-o", path, src)
		cmd := exec.Command(cc, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Run(), "compiling %s: %s", src, stderr.String())
		return path
	}
	return build(name + ".orig.o"), build(name+".patched.o", "-DPATCHED")
}

// TestCounterNames: compiler-generated names whose counters move between
// the builds (__UNIQUE_ID_ statics, dynamic debug descriptors, .LC
// labels, UBSAN descriptor sections) never make a function with the same
// code and relocations "changed", and cause no warnings; a line moved and
// nothing else is refused as such.
func TestCounterNames(t *testing.T) {
	cases := []struct {
		name, fixture string
		clang         bool
		flags         []string
		changed, new  []string
		lineOnly      []string // functions named by ErrOnlyLineNumbers
		included      []string // sections the patch object must hold (prefixes)
	}{
		{name: "unique-id", fixture: "unique-id", new: []string{"spare"}},
		{name: "unique-id/clang", fixture: "unique-id", clang: true, new: []string{"spare"}},
		{name: "line-moved", fixture: "line-moved", lineOnly: []string{"copy_checked", "debugged", "warned"}},
		{name: "line-moved/clang", fixture: "line-moved", clang: true, lineOnly: []string{"copy_checked", "debugged", "warned"}},
		{name: "ubsan-line", fixture: "ubsan", flags: []string{"-fsanitize=bounds"}, lineOnly: []string{"get", "get_two"}},
		{name: "ubsan-line/clang", fixture: "ubsan", clang: true, flags: []string{"-fsanitize=bounds"}, lineOnly: []string{"get", "get_two"}},
		{name: "ubsan-change", fixture: "ubsan", flags: []string{"-fsanitize=bounds", "-DCHANGE"}, changed: []string{"get"},
			included: []string{".data..Lubsan_data", ".data..Lubsan_type"}},
		{name: "ubsan-change/clang", fixture: "ubsan", clang: true, flags: []string{"-fsanitize=bounds", "-DCHANGE"}, changed: []string{"get"},
			included: []string{".data..L__unnamed_", ".rodata..L__unnamed_"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cc := findCC(t)
			if c.clang {
				cc = findClang(t)
			}
			orig, patched := compileFixtureWith(t, cc, c.fixture, c.flags...)
			res, err := Diff(mustOpen(t, orig), mustOpen(t, patched), &Options{Name: c.fixture + ".o"})
			if c.lineOnly != nil {
				require.ErrorIs(t, err, ErrOnlyLineNumbers)
				require.ErrorIs(t, err, ErrNoChanges)
				assert.Equal(t, c.fixture+".o: no changed functions: only line numbers moved (in "+strings.Join(c.lineOnly, ", ")+")",
					sortedIn(err.Error()))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, sorted(c.changed), names(res.Changed), "changed")
			assert.Equal(t, sorted(c.new), names(res.New), "new")
			assert.Empty(t, res.Warnings)
			for _, want := range c.included {
				assert.True(t, slices.ContainsFunc(res.out.Sections, func(s *elfobj.Section) bool { return strings.HasPrefix(s.Name, want) }),
					"patch object holds a fresh %s* section", want)
			}
			require.NoError(t, res.WriteFile(filepath.Join(t.TempDir(), "patch.o")))
		})
	}
}

// sortedIn sorts the comma-separated list in the parentheses that end msg,
// so that the test does not depend on section order.
func sortedIn(msg string) string {
	i := strings.LastIndex(msg, "(in ")
	if i < 0 || !strings.HasSuffix(msg, ")") {
		return msg
	}
	list := strings.Split(msg[i+len("(in "):len(msg)-1], ", ")
	slices.Sort(list)
	return msg[:i] + "(in " + strings.Join(list, ", ") + ")"
}

// TestBaseNameCounters: the __COUNTER__ value of __UNIQUE_ID_ names is
// not part of their identity.
func TestBaseNameCounters(t *testing.T) {
	for name, want := range map[string]string{
		"__UNIQUE_ID_ddebug539.36":                 "__UNIQUE_ID_ddebug",
		"__do_sys_io_setup.__UNIQUE_ID_ddebug415":  "__do_sys_io_setup.__UNIQUE_ID_ddebug",
		"__UNIQUE_ID___addressable_foo1234":        "__UNIQUE_ID___addressable_foo",
		"__UNIQUE_ID___addressable___SCK__x1448.7": "__UNIQUE_ID___addressable___SCK__x",
		"foo.isra.3": "foo.isra",
		"calls.12":   "calls",
		"md5":        "md5",
	} {
		assert.Equal(t, want, baseName(name), name)
	}
	assert.True(t, namesMatch("__UNIQUE_ID_ddebug539.36", "__UNIQUE_ID_ddebug556.36"))
	assert.False(t, namesMatch("__UNIQUE_ID___addressable_foo12", "__UNIQUE_ID___addressable_bar12"))
}
