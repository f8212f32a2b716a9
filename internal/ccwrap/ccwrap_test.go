// SPDX-License-Identifier: Apache-2.0

package ccwrap

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUnwrap(t *testing.T) {
	args := []string{"-c", "-o", "fs/a.o", "fs/a.c"}
	for _, tc := range []struct {
		cmd      string
		argv0    string
		wrappers []string
		env      []string
	}{
		{"gcc-12", "gcc-12", nil, nil},
		{"ccache gcc-12", "gcc-12", []string{"ccache"}, nil},
		{"/usr/bin/ccache gcc", "gcc", []string{"/usr/bin/ccache"}, nil},
		{"distcc x86_64-linux-gnu-gcc-12", "x86_64-linux-gnu-gcc-12", []string{"distcc"}, nil},
		{"icecc gcc-12", "gcc-12", []string{"icecc"}, nil},
		{"sccache clang-14", "clang-14", []string{"sccache"}, nil},
		{"/usr/libexec/kpatch/kpatch-cc gcc", "gcc", []string{"/usr/libexec/kpatch/kpatch-cc"}, nil},
		{"kpatch-gcc gcc", "gcc", []string{"kpatch-gcc"}, nil},
		{"kpatch-cc ccache gcc-12", "gcc-12", []string{"kpatch-cc", "ccache"}, nil},
		{"CCACHE_DISABLE=1 ccache gcc", "gcc", []string{"ccache"}, nil},
		{"ccache max_size=5G compiler_check=content gcc-12", "gcc-12", []string{"ccache"}, nil},
		{"LC_ALL=C CCACHE_DIR=/c ccache gcc", "gcc", []string{"ccache"}, []string{"LC_ALL=C"}},
		{"DISTCC_HOSTS=localhost CCACHE_DIR=/c ccache gcc", "gcc", []string{"ccache"}, []string{"DISTCC_HOSTS=localhost"}},
		{"env CCACHE_DISABLE=1 ccache gcc", "gcc", []string{"ccache"}, nil},
		{"SOURCE_DATE_EPOCH=0 gcc", "gcc", nil, []string{"SOURCE_DATE_EPOCH=0"}},
		{"/opt/cross/bin/x86_64-photon-linux-gnu-gcc", "/opt/cross/bin/x86_64-photon-linux-gnu-gcc", nil, nil},
		{"mycc", "mycc", nil, nil}, // an unknown name with no compiler after it is the compiler
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			words := append(strings.Fields(tc.cmd), args...)
			c, err := Unwrap(words)
			require.NoError(t, err)
			assert.Equal(t, append([]string{tc.argv0}, args...), c.Argv)
			assert.Equal(t, tc.wrappers, c.Wrappers)
			assert.Equal(t, tc.env, c.Env)
		})
	}
}

func TestUnwrapRefuses(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		is   error
		says []string
	}{
		{"mywrap gcc-12 -c a.c", ErrUnknownWrapper, []string{`"mywrap"`, `"gcc-12"`, "ccache, distcc"}},
		{"/opt/bin/fastcc x86_64-linux-gnu-gcc-12 -c a.c", ErrUnknownWrapper, []string{"fastcc"}},
		{"ccache", ErrNoCompiler, []string{"ccache"}},
		{"distcc -c a.c", ErrNoCompiler, []string{`"distcc gcc"`}},
		{"ccache max_size=5G", ErrNoCompiler, nil},
		{"CCACHE_DISABLE=1", nil, []string{"runs no program"}},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			_, err := Unwrap(strings.Fields(tc.cmd))
			require.Error(t, err)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
			for _, s := range tc.says {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
	_, err := Unwrap(strings.Fields("mywrap gcc-12 -c a.c"))
	uw, ok := err.(*UnknownWrapperError)
	require.True(t, ok, "%T", err)
	assert.Equal(t, UnknownWrapperError{Program: "mywrap", Compiler: "gcc-12"}, *uw)
}

func TestIsCompiler(t *testing.T) {
	for _, name := range []string{"gcc", "gcc-12", "/usr/bin/gcc-12", "x86_64-linux-gnu-gcc-12", "cc", "clang", "clang-14", "x86_64-pc-linux-gnu-gcc-12.2.0"} {
		assert.True(t, IsCompiler(name), name)
	}
	for _, name := range []string{"ccache", "g++", "ld", "objtool", "gcc-ar", "mywrap", "-c"} {
		assert.False(t, IsCompiler(name), name)
	}
}

// masquerade builds a PATH the way Debian's ccache package does: a
// directory of links named after compilers, pointing at ccache, in front of
// the directory with the real compiler.
func masquerade(t *testing.T) (links, bin, path string) {
	t.Helper()
	root := t.TempDir()
	links, bin = filepath.Join(root, "lib/ccache"), filepath.Join(root, "bin")
	require.NoError(t, os.MkdirAll(links, 0o755))
	require.NoError(t, os.MkdirAll(bin, 0o755))
	for _, f := range []string{"ccache", "x86_64-linux-gnu-gcc-12"} {
		require.NoError(t, os.WriteFile(filepath.Join(bin, f), []byte("#!/bin/sh\n"), 0o755))
	}
	require.NoError(t, os.Symlink("x86_64-linux-gnu-gcc-12", filepath.Join(bin, "gcc-12")))
	require.NoError(t, os.Symlink("../../bin/ccache", filepath.Join(links, "gcc-12")))
	return links, bin, links + string(filepath.ListSeparator) + bin
}

func TestUnmask(t *testing.T) {
	links, bin, path := masquerade(t)
	for _, tc := range []struct {
		program, path, want string
	}{
		{"gcc-12", path, filepath.Join(bin, "gcc-12")},                       // found through PATH: the link is passed over
		{filepath.Join(links, "gcc-12"), path, filepath.Join(bin, "gcc-12")}, // named by its path
		{"gcc-12", bin, "gcc-12"},                                            // no masquerade: left as written
		{"gcc-12", "relative:" + path, filepath.Join(bin, "gcc-12")},         // relative PATH entries are skipped
		{"clang-14", path, "clang-14"},                                       // not found: exec reports it
	} {
		got, err := Unmask(tc.program, tc.path)
		require.NoError(t, err, tc.program)
		assert.Equal(t, tc.want, got, "%s in %s", tc.program, tc.path)
	}
	assert.True(t, Masked("gcc-12", path))
	assert.False(t, Masked("gcc-12", bin))

	_, err := Unmask("gcc-12", links)
	require.Error(t, err, "only the link is in PATH")
	assert.Contains(t, err.Error(), "no gcc-12 in PATH is the compiler itself")
}

func TestKnown(t *testing.T) {
	k := Known()
	assert.True(t, slices.IsSorted(k))
	for _, w := range []string{"ccache", "distcc", "icecc", "kpatch-cc"} {
		assert.Contains(t, k, w)
		assert.True(t, IsWrapper("/usr/bin/"+w))
	}
}

// FuzzUnwrap: commands come from .cmd files in the tree; whatever they
// hold, Unwrap does not panic and what it returns is the tail of the input.
func FuzzUnwrap(f *testing.F) {
	f.Add("CCACHE_DISABLE=1 ccache gcc-12 -c -o a.o a.c")
	f.Add("env A=1 kpatch-cc ccache max_size=1G distcc gcc -c a.c")
	f.Add("mywrap gcc -c a.c")
	f.Fuzz(func(t *testing.T, cmd string) {
		words := strings.Fields(cmd)
		c, err := Unwrap(words)
		if err != nil {
			return
		}
		require.NotEmpty(t, c.Argv)
		assert.Equal(t, c.Argv, words[len(words)-len(c.Argv):])
		assert.False(t, IsWrapper(c.Argv[0]))
	})
}
