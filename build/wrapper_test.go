// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/ccwrap"
)

// wrappedCmd is the kbuild command file of fs/a.o with cc in front.
func wrappedCmd(t *testing.T, cc string) *cmdFile {
	t.Helper()
	c, err := parseCmdFile([]byte("savedcmd_fs/a.o := "+cc+" -Wp,-MMD,fs/.a.o.d -nostdinc -I./include -pg -c -o fs/a.o fs/a.c ; ./tools/objtool/objtool --orc fs/a.o\n"), "fs/a.o")
	require.NoError(t, err)
	return c
}

func TestCompileStepsWrapped(t *testing.T) {
	for _, tc := range []struct {
		cc, want string // want: the compiler klpkit runs, prefix included
	}{
		{"ccache gcc-12", "gcc-12"},
		{"/usr/bin/ccache gcc", "gcc"},
		{"distcc x86_64-linux-gnu-gcc-12", "x86_64-linux-gnu-gcc-12"},
		{"icecc gcc-12", "gcc-12"},
		{"kpatch-cc gcc", "gcc"},
		{"/usr/libexec/kpatch/kpatch-cc ccache gcc-12", "gcc-12"},
		{"CCACHE_DISABLE=1 ccache gcc", "gcc"},
		{"ccache compiler_check=content gcc-12", "gcc-12"},
		{"LC_ALL=C ccache gcc-12", "env LC_ALL=C gcc-12"}, // the compiler's own environment is kept
	} {
		t.Run(tc.cc, func(t *testing.T) {
			plain := wrappedCmd(t, tc.want)
			if strings.HasPrefix(tc.want, "env ") {
				plain = wrappedCmd(t, strings.Fields(tc.want)[len(strings.Fields(tc.want))-1])
			}
			want, err := compileSteps(plain, "/out/a.o", nil)
			require.NoError(t, err)
			got, err := compileSteps(wrappedCmd(t, tc.cc), "/out/a.o", nil)
			require.NoError(t, err)
			prefix := strings.Fields(tc.want)
			prefix = prefix[:len(prefix)-1]
			assert.Equal(t, append(prefix, want[0]...), got[0], "the real compiler, same arguments")
			assert.Equal(t, want[1:], got[1:], "objtool unchanged")
			for _, w := range ccwrap.Known() {
				assert.NotContains(t, got[0], w)
			}
		})
	}
}

func TestCompileStepsUnknownWrapper(t *testing.T) {
	_, err := compileSteps(wrappedCmd(t, "mywrap gcc-12"), "/out/a.o", nil)
	require.ErrorIs(t, err, ccwrap.ErrUnknownWrapper)
	assert.Contains(t, err.Error(), "fs/a.o")
	assert.Contains(t, err.Error(), "`make CC=gcc-12 fs/a.o`", "says how to record the command without it")

	_, err = compileSteps(wrappedCmd(t, "ccache"), "/out/a.o", nil)
	require.ErrorIs(t, err, ccwrap.ErrNoCompiler)
}

// A PATH with the ccache link directory first (Debian's way to turn
// ccache on) is seen through: klpkit runs the compiler the link hides.
func TestCompileStepsMasquerade(t *testing.T) {
	root := t.TempDir()
	links, bin := filepath.Join(root, "ccache"), filepath.Join(root, "bin")
	require.NoError(t, os.MkdirAll(links, 0o755))
	require.NoError(t, os.MkdirAll(bin, 0o755))
	for _, f := range []string{"ccache", "gcc-12"} {
		require.NoError(t, os.WriteFile(filepath.Join(bin, f), []byte("#!/bin/sh\n"), 0o755))
	}
	require.NoError(t, os.Symlink(filepath.Join(bin, "ccache"), filepath.Join(links, "gcc-12")))
	t.Setenv("PATH", links+string(filepath.ListSeparator)+bin)
	steps, err := compileSteps(wrappedCmd(t, "gcc-12"), "/out/a.o", nil)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(bin, "gcc-12"), steps[0][0])
}

func TestCompilerProgram(t *testing.T) {
	for cc, want := range map[string]string{
		"gcc-12":                         "gcc-12",
		"ccache gcc-12":                  "gcc-12",
		"CCACHE_DISABLE=1 ccache gcc":    "gcc",
		"distcc x86_64-linux-gnu-gcc-12": "x86_64-linux-gnu-gcc-12",
		"gcc-12 -m64":                    "gcc-12",
	} {
		got, err := compilerProgram(cc)
		require.NoError(t, err, cc)
		assert.Equal(t, want, got, cc)
	}
	for _, cc := range []string{"mywrap gcc-12", "gcc; true", "ccache"} {
		_, err := compilerProgram(cc)
		require.Error(t, err, cc)
		assert.Contains(t, err.Error(), cc)
	}
}

func TestWithoutWrappers(t *testing.T) {
	for in, want := range map[string]string{
		"ccache gcc-12 (Debian 12.2.0-14) 12.2.0":           "gcc-12 (Debian 12.2.0-14) 12.2.0",
		"kpatch-cc ccache gcc-12 (Debian 12.2.0-14) 12.2.0": "gcc-12 (Debian 12.2.0-14) 12.2.0",
		"gcc-12 (Debian 12.2.0-14) 12.2.0":                  "gcc-12 (Debian 12.2.0-14) 12.2.0",
		"ccache":                                            "ccache",
	} {
		got, _ := withoutWrappers(in)
		assert.Equal(t, want, got, in)
	}
	got, err := kernelCompiler("", kconfig{"CONFIG_CC_VERSION_TEXT": "ccache gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"})
	require.NoError(t, err)
	assert.Equal(t, "(Debian 12.2.0-14+deb12u1) 12.2.0", got)
}

func TestConfigDiffIgnoresWrapperWords(t *testing.T) {
	tree := kconfig{"CONFIG_CC_VERSION_TEXT": "ccache gcc-12 (Debian 12.2.0-14) 12.2.0", "CONFIG_X": "y"}
	kernel := kconfig{"CONFIG_CC_VERSION_TEXT": "gcc-12 (Debian 12.2.0-14) 12.2.0", "CONFIG_X": "y"}
	assert.Empty(t, configDiff(unwrappedCompilerText(tree), unwrappedCompilerText(kernel)))
	kernel["CONFIG_CC_VERSION_TEXT"] = "gcc-13 (Debian 13.2.0-1) 13.2.0"
	assert.Contains(t, configDiff(unwrappedCompilerText(tree), unwrappedCompilerText(kernel)), "CONFIG_CC_VERSION_TEXT")
	assert.Equal(t, "ccache gcc-12 (Debian 12.2.0-14) 12.2.0", tree["CONFIG_CC_VERSION_TEXT"], "the caller's config is left alone")
}

// fakeCompiler writes a compiler whose --version prints line.
func fakeCompiler(t *testing.T, line string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gcc-99")
	require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\necho '"+line+"'\n"), 0o755))
	return p
}

// Without vmlinux the kernel config is the only witness of the compiler:
// a mismatch names the command that records the local compiler in it, and
// that command works.
func TestCheckCompilerConfigFix(t *testing.T) {
	if _, err := exec.LookPath("sed"); err != nil {
		t.Skip("needs sed")
	}
	cc := fakeCompiler(t, "gcc-fake (Debian 12.2.0-14+deb12u1) 12.2.0")
	config := filepath.Join(t.TempDir(), "it's .config")
	require.NoError(t, os.WriteFile(config, []byte("CONFIG_A=y\nCONFIG_CC_VERSION_TEXT=\"kpatch-cc (rewritten) 0.9\"\nCONFIG_B=y\n"), 0o644))
	c, err := readKconfig(config)
	require.NoError(t, err)
	tree := &Tree{Config: config, MakeArgs: []string{"CC=ccache " + cc}}
	_, err = checkCompiler(context.Background(), tree, c)
	require.ErrorIs(t, err, ErrCompilerMismatch)
	msg := err.Error()
	assert.Contains(t, msg, "give the kernel's vmlinux")
	_, fix, ok := strings.Cut(msg, "record it in the config with: ")
	require.True(t, ok, msg)
	out, err := exec.Command("sh", "-c", fix).CombinedOutput()
	require.NoError(t, err, "%s\n%s", fix, out)
	c, err = readKconfig(config)
	require.NoError(t, err)
	assert.Equal(t, kconfig{"CONFIG_A": "y", "CONFIG_CC_VERSION_TEXT": "gcc-fake (Debian 12.2.0-14+deb12u1) 12.2.0", "CONFIG_B": "y"}, c)
	got, err := checkCompiler(context.Background(), tree, c)
	require.NoError(t, err, "the fixed config passes")
	assert.Equal(t, "(Debian 12.2.0-14+deb12u1) 12.2.0", got)

	// A compiler line with sed's and the shell's special characters.
	line := `cc|x & 'q' \ "(1)" 1.0`
	require.NoError(t, exec.Command("sh", "-c", configFixCommand(config, line)).Run())
	c, err = readKconfig(config)
	require.NoError(t, err)
	assert.Equal(t, line, c["CONFIG_CC_VERSION_TEXT"])
}

func TestCheckCompilerWrappedCC(t *testing.T) {
	cc := fakeCompiler(t, "gcc-fake (Imaginary 1.0) 1.0")
	got, err := checkCompiler(context.Background(), &Tree{MakeArgs: []string{"CC=CCACHE_DISABLE=1 ccache " + cc}},
		kconfig{"CONFIG_CC_VERSION_TEXT": "ccache gcc (Imaginary 1.0) 1.0"})
	require.NoError(t, err)
	assert.Equal(t, "(Imaginary 1.0) 1.0", got)

	_, err = checkCompiler(context.Background(), &Tree{MakeArgs: []string{"CC=mywrap " + cc}}, kconfig{"CONFIG_CC_VERSION_TEXT": "x"})
	require.True(t, errors.Is(err, ccwrap.ErrUnknownWrapper), "%v", err)
}

func TestRealCCMakeArgs(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"CC=ccache gcc-12", "HOSTCC=gcc-12"}, []string{"CC=gcc-12", "HOSTCC=gcc-12"}},
		{[]string{"V=1", "CC=CCACHE_DISABLE=1 /usr/bin/ccache gcc -m64"}, []string{"V=1", "CC=gcc -m64"}},
		{[]string{"CC=kpatch-cc distcc x86_64-linux-gnu-gcc-12"}, []string{"CC=x86_64-linux-gnu-gcc-12"}},
		{[]string{"CC=gcc-12", "KERNELRELEASE=6.1.0"}, []string{"CC=gcc-12", "KERNELRELEASE=6.1.0"}},
		{nil, nil},
	} {
		in := slices.Clone(tc.in)
		got, err := realCCMakeArgs(in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		assert.Equal(t, tc.in, in, "the caller's arguments are left alone")
	}
	_, err := realCCMakeArgs([]string{"CC=mywrap gcc-12"})
	require.ErrorIs(t, err, ccwrap.ErrUnknownWrapper)
}

// Debian's way to turn ccache on, a PATH with its link directory first,
// makes kbuild's default gcc a wrapper: the make arguments name the real one.
func TestRealCCMakeArgsMasquerade(t *testing.T) {
	root := t.TempDir()
	links, bin := filepath.Join(root, "ccache"), filepath.Join(root, "bin")
	require.NoError(t, os.MkdirAll(links, 0o755))
	require.NoError(t, os.MkdirAll(bin, 0o755))
	for _, f := range []string{"ccache", "gcc"} {
		require.NoError(t, os.WriteFile(filepath.Join(bin, f), []byte("#!/bin/sh\n"), 0o755))
	}
	require.NoError(t, os.Symlink(filepath.Join(bin, "ccache"), filepath.Join(links, "gcc")))
	t.Setenv("PATH", links+string(filepath.ListSeparator)+bin)
	got, err := realCCMakeArgs([]string{"V=1"})
	require.NoError(t, err)
	assert.Equal(t, []string{"V=1", "CC=" + filepath.Join(bin, "gcc")}, got)
}
