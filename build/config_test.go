package build

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckConfig(t *testing.T) {
	good := "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n# CONFIG_X86_KERNEL_IBT is not set\nCONFIG_CC_VERSION_TEXT=\"gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0\"\n"
	for _, tc := range []struct {
		name, config, says string
	}{
		{"good", good, ""},
		{"no livepatch", "CONFIG_MODULES=y\n", "CONFIG_LIVEPATCH"},
		{"no modules", "CONFIG_LIVEPATCH=y\n", "CONFIG_MODULES"},
		{"latent entropy", good + "CONFIG_GCC_PLUGIN_LATENT_ENTROPY=y\n", "latent-entropy"},
		{"randstruct", good + "CONFIG_RANDSTRUCT_FULL=y\n", "randomised"},
		{"ibt", good + "CONFIG_X86_KERNEL_IBT=y\n", "IBT"},
		{"split debug", good + "CONFIG_DEBUG_INFO_SPLIT=y\n", "split"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkConfig(parseKconfig([]byte(tc.config)))
			if tc.says == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrNotLivepatchable)
			assert.Contains(t, err.Error(), tc.says)
		})
	}
	c := parseKconfig([]byte(good))
	assert.Equal(t, "gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0", c["CONFIG_CC_VERSION_TEXT"], "quotes removed")
	_, unset := c["CONFIG_X86_KERNEL_IBT"]
	assert.False(t, unset, "\"is not set\" lines are not values")
}

// A line over bufio.Scanner's limit once hid every option after it, so an
// unsafe option past a long comment went unnoticed.
func TestCheckConfigAfterLongLine(t *testing.T) {
	config := "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n# " + strings.Repeat("x", 2<<20) + "\nCONFIG_RANDSTRUCT_FULL=y\n"
	err := checkConfig(parseKconfig([]byte(config)))
	require.ErrorIs(t, err, ErrNotLivepatchable)
	assert.Contains(t, err.Error(), "CONFIG_RANDSTRUCT_FULL")
}

func TestAfterProgramName(t *testing.T) {
	for in, want := range map[string]string{
		"gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0":       "(Debian 12.2.0-14+deb12u1) 12.2.0",
		"gcc (GCC) 12.2.0":                               "(GCC) 12.2.0",
		"(Debian 12.2.0-14+deb12u1) 12.2.0":              "(Debian 12.2.0-14+deb12u1) 12.2.0",
		"x86_64-linux-gnu-gcc-12 (Debian 12.2.0) 12.2.0": "(Debian 12.2.0) 12.2.0",
	} {
		assert.Equal(t, want, afterProgramName(in), in)
	}
}

func TestKernelCompilerFromConfig(t *testing.T) {
	got, err := kernelCompiler("", kconfig{"CONFIG_CC_VERSION_TEXT": "gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"})
	require.NoError(t, err)
	assert.Equal(t, "(Debian 12.2.0-14+deb12u1) 12.2.0", got)
	_, err = kernelCompiler("", kconfig{})
	require.Error(t, err)
}

// fakeTree writes a minimal kernel tree: a config and one C file.
func fakeTree(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".config"), []byte(config), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "fs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fs/a.c"), []byte("int a(void)\n{\n\treturn 1;\n}\n"), 0o644))
	return dir
}

func writePatch(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fix.patch")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

const fakePatch = "--- a/fs/a.c\n+++ b/fs/a.c\n@@ -1,4 +1,4 @@\n int a(void)\n {\n-\treturn 1;\n+\treturn 2;\n }\n"

func TestRunRefusesBeforeBuilding(t *testing.T) {
	good := "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n"
	for _, tc := range []struct {
		name   string
		config string
		tree   func(dir string) *Tree
		is     error
		says   string
	}{
		{"not livepatchable", "CONFIG_MODULES=y\n", nil, ErrNotLivepatchable, "CONFIG_LIVEPATCH"},
		{"no symbols", good, func(dir string) *Tree { return &Tree{Release: "6.1.0-test", Dir: dir} }, nil, "vmlinux or System.map"},
		{"compiler mismatch", good + "CONFIG_CC_VERSION_TEXT=\"gcc (Imaginary 1.0) 1.0\"\n", nil, ErrCompilerMismatch, "Imaginary"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakeTree(t, tc.config)
			tree := &Tree{Release: "6.1.0-test", Dir: dir, SystemMap: filepath.Join(dir, "System.map"), MakeArgs: []string{"CC=true"}}
			if tc.tree != nil {
				tree = tc.tree(dir)
			}
			out := t.TempDir()
			_, err := Run(context.Background(), Options{Source: tree, Patches: []string{writePatch(t, fakePatch)}, OutputDir: out})
			require.Error(t, err)
			if tc.is != nil {
				require.True(t, errors.Is(err, tc.is), "%v is not %v", err, tc.is)
			}
			assert.Contains(t, err.Error(), tc.says)
			entries, _ := os.ReadDir(out)
			assert.Empty(t, entries, "no output on failure")
		})
	}
}

func TestRunNeedsSourceAndPatches(t *testing.T) {
	_, err := Run(context.Background(), Options{Patches: []string{"x.patch"}})
	require.Error(t, err)
	_, err = Run(context.Background(), Options{Source: &Tree{Release: "r", Dir: t.TempDir()}})
	require.Error(t, err)
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := fakeTree(t, "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n")
	_, err := Run(ctx, Options{Source: &Tree{Release: "r", Dir: dir, SystemMap: "x"}, Patches: []string{writePatch(t, fakePatch)}, OutputDir: t.TempDir()})
	require.ErrorIs(t, err, context.Canceled)
}

// TestRunCancelDuringCompile cancels while the compiler runs: Run returns
// the context's error promptly and writes nothing.
func TestRunCancelDuringCompile(t *testing.T) {
	dir := fakeTree(t, "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n")
	cc := filepath.Join(t.TempDir(), "slowcc")
	require.NoError(t, os.WriteFile(cc, []byte("#!/bin/sh\nexec sleep 60\n"), 0o755))
	writeFile(t, filepath.Join(dir, "fs/.a.o.cmd"), "cmd_fs/a.o := "+cc+" -c -o fs/a.o fs/a.c\nsource_fs/a.o := fs/a.c\n")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	out := t.TempDir()
	var compiling bool
	start := time.Now()
	_, err := Run(ctx, Options{
		Source:  &Tree{Release: "r", Dir: dir, SystemMap: "unused", MakeArgs: []string{"CC=true"}},
		Patches: []string{writePatch(t, fakePatch)}, OutputDir: out, SkipCompilerCheck: true,
		Progress: func(e Event) { compiling = compiling || e.Stage == StageCompile },
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.True(t, compiling, "the compile stage had started")
	assert.Less(t, time.Since(start), 10*time.Second)
	entries, _ := os.ReadDir(out)
	assert.Empty(t, entries)
}
