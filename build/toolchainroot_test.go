// SPDX-License-Identifier: Apache-2.0

package build

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/toolchain"
)

func TestParseToolchain(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	for _, tc := range []struct {
		in      string
		want    Toolchain
		wantErr string
	}{
		{in: "auto", want: Toolchain{Mode: ToolchainAuto}},
		{in: "host", want: Toolchain{Mode: ToolchainHost}},
		{in: "", want: Toolchain{Mode: ToolchainHost}},
		{in: dir, want: Toolchain{Mode: ToolchainRoot, Dir: dir}},
		{in: filepath.Join(dir, "missing"), wantErr: "want auto, host or a toolchain root directory"},
		{in: file, wantErr: "not a directory"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseToolchain(tc.in)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Contains(t, err.Error(), tc.in)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// setupToolchain's choice for each mode, with a fake host compiler and a
// kernel named by its config (no vmlinux). No case reaches the network:
// those that would provision fail before, on a missing keyring or on
// privileges.
func TestSetupToolchain(t *testing.T) {
	const debian12 = "gcc-12 (Debian 12.2.0-14) 12.2.0"
	hostCC := fakeCompiler(t, "gcc-99 (Debian 12.2.0-14) 12.2.0")
	tree := openTempDir(t)
	isRoot := os.Geteuid() == 0
	for _, tc := range []struct {
		name     string
		tc       Toolchain
		skip     bool   // SkipCompilerCheck
		kernel   string // CONFIG_CC_VERSION_TEXT
		wantRoot bool
		wantErr  []error
		wantMsg  []string
	}{
		{name: "zero is host", kernel: "gcc (GCC) 10.2.0"},
		{name: "host", tc: Toolchain{Mode: ToolchainHost}, kernel: "gcc (GCC) 10.2.0"},
		{name: "unknown mode", tc: Toolchain{Mode: "docker"}, kernel: debian12, wantErr: []error{ErrBadOptions}, wantMsg: []string{`"docker"`}},
		{name: "root without a directory", tc: Toolchain{Mode: ToolchainRoot}, kernel: debian12, wantErr: []error{ErrBadOptions}},
		{name: "root that is missing", tc: Toolchain{Mode: ToolchainRoot, Dir: filepath.Join(tree, "nope")}, kernel: debian12,
			wantErr: []error{ErrBadOptions}, wantMsg: []string{"nope"}},
		{name: "auto, host compiler is the kernel's", tc: Toolchain{Mode: ToolchainAuto}, kernel: debian12},
		{name: "auto, check skipped", tc: Toolchain{Mode: ToolchainAuto}, skip: true, kernel: "gcc (GCC) 10.2.0"},
		{name: "auto, a Photon kernel's compiler", tc: Toolchain{Mode: ToolchainAuto}, kernel: "gcc (GCC) 10.2.0",
			wantErr: []error{ErrToolchainUnavailable, ErrCompilerMismatch},
			wantMsg: []string{`"(GCC) 10.2.0"`, "Photon", "--toolchain DIR", "(Debian 12.2.0-14) 12.2.0"}},
		{name: "auto, a Debian gcc of no known suite", tc: Toolchain{Mode: ToolchainAuto}, kernel: "gcc-8 (Debian 8.3.0-6) 8.3.0",
			wantErr: []error{ErrToolchainUnavailable, ErrCompilerMismatch}, wantMsg: []string{"gcc-8=8.3.0-6", "no Debian suite"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &runner{
				opts: Options{Toolchain: tc.tc, SkipCompilerCheck: tc.skip},
				tree: Tree{Release: "6.1.0-test", Dir: tree, KbuildDir: tree, MakeArgs: []string{"CC=" + hostCC}},
				log:  slog.New(slog.DiscardHandler), work: tree,
			}
			err := r.setupToolchain(t.Context(), kconfig{"CONFIG_CC_VERSION_TEXT": tc.kernel})
			for _, want := range tc.wantErr {
				require.ErrorIs(t, err, want)
			}
			if err != nil {
				for _, m := range tc.wantMsg {
					assert.Contains(t, err.Error(), m)
				}
			}
			if len(tc.wantErr) == 0 {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.wantRoot, r.root != nil)
		})
	}

	// Auto for bullseye's gcc-10, not on the host: the root is provisioned
	// only by root, and its keys must be there (a missing keyring stops it
	// before any download).
	r := &runner{
		opts: Options{Toolchain: Toolchain{Mode: ToolchainAuto, Keyring: filepath.Join(tree, "no-keyring.gpg"), CacheDir: filepath.Join(tree, "cache")}},
		tree: Tree{Release: "5.10.0-test", Dir: tree, KbuildDir: tree, MakeArgs: []string{"CC=" + hostCC}},
		log:  slog.New(slog.DiscardHandler), work: tree,
	}
	err := r.setupToolchain(t.Context(), kconfig{"CONFIG_CC_VERSION_TEXT": "gcc-10 (Debian 10.2.1-6) 10.2.1 20210110"})
	if isRoot {
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no-keyring.gpg")
		assert.ErrorIs(t, err, os.ErrNotExist)
	} else {
		require.ErrorIs(t, err, toolchain.ErrNeedsRoot)
		require.ErrorIs(t, err, ErrToolchainUnavailable)
		assert.Contains(t, err.Error(), "gcc-10=10.2.1-6")
	}
	assert.Nil(t, r.root)

	// An existing root: used as it is, by root only.
	rootDir := t.TempDir()
	r.opts.Toolchain = Toolchain{Mode: ToolchainRoot, Dir: rootDir}
	err = r.setupToolchain(t.Context(), kconfig{"CONFIG_CC_VERSION_TEXT": debian12})
	if !isRoot {
		require.ErrorIs(t, err, toolchain.ErrNeedsRoot)
		assert.Nil(t, r.root)
		return
	}
	require.NoError(t, err)
	require.NotNil(t, r.root)
	assert.Equal(t, rootDir, r.root.root.Dir)
	real, err := filepath.EvalSymlinks(tree)
	require.NoError(t, err)
	assert.Equal(t, []string{real}, r.root.binds, "tree, kbuild tree and work directory are one here")
}

// The binds of Debian's headers: the -amd64 tree, the -common tree its
// Makefile includes, and linux-kbuild's scripts and tools both link to;
// a directory inside another is not bound again, and links are resolved.
func TestRootBinds(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	amd64 := filepath.Join(base, "usr/src/linux-headers-6.1.0-1-amd64")
	common := filepath.Join(base, "usr/src/linux-headers-6.1.0-1-common")
	kbuild := filepath.Join(base, "usr/lib/linux-kbuild-6.1")
	tree := filepath.Join(base, "src/linux")
	for _, d := range []string{amd64, common, filepath.Join(kbuild, "scripts"), filepath.Join(kbuild, "tools"), filepath.Join(tree, "work")} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(amd64, "Makefile"), []byte("include "+common+"/Makefile\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(common, "Makefile"), []byte("# kbuild\ninclude $(srctree)/x\n"), 0o644))
	for _, l := range []struct{ dir, name string }{{amd64, "scripts"}, {common, "scripts"}, {common, "tools"}} {
		require.NoError(t, os.Symlink("../../lib/linux-kbuild-6.1/"+l.name, filepath.Join(l.dir, l.name)))
	}
	require.NoError(t, os.Symlink("missing", filepath.Join(tree, "dangling")))
	build := filepath.Join(base, "lib/modules/6.1.0-1-amd64/build")
	require.NoError(t, os.MkdirAll(filepath.Dir(build), 0o755))
	require.NoError(t, os.Symlink(amd64, build))

	got, err := rootBinds(tree, build, filepath.Join(tree, "work"))
	require.NoError(t, err)
	assert.Equal(t, []string{tree, filepath.Join(kbuild, "scripts"), filepath.Join(kbuild, "tools"), amd64, common}, got)

	_, err = rootBinds(filepath.Join(base, "missing"))
	require.True(t, errors.Is(err, os.ErrNotExist), "%v", err)
}
