// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build

import (
	"bytes"
	"context"
	"debug/elf"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/needtest"
)

// TestAutoToolchainGCC10 is a kernel built with bullseye's gcc-10, on a
// host without it: ToolchainAuto finds the host's compiler is not the
// kernel's, provisions bullseye's gcc-10 kernel-build root from Debian's
// archive (in the cache build/toolchain's tests and the 5.10 lab use),
// the compiler check passes on the root's gcc-10, and a unit of a fake
// tree compiles there as the build user, gcc-10 named in its .comment.
func TestAutoToolchainGCC10(t *testing.T) {
	if os.Getenv("KLPKIT_VMTEST") == "" && os.Getenv("CI") != "true" {
		t.Skip("needs Debian's archive over the network and about 90 MB of downloads: set KLPKIT_VMTEST=1 (CI runs it)")
	}
	if os.Geteuid() != 0 {
		needtest.Missing(t, "running inside a toolchain root needs root (mount namespace and chroot)")
	}
	const ident = "(Debian 10.2.1-6) 10.2.1 20210110"
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()
	tree := openFakeTree(t, "CONFIG_CC_VERSION_TEXT=\"gcc-10 "+ident+"\"\n")
	work := openTempDir(t)
	c := kconfig{"CONFIG_CC_VERSION_TEXT": "gcc-10 " + ident}
	r := &runner{
		opts: Options{Toolchain: Toolchain{Mode: ToolchainAuto, CacheDir: labtest.ToolchainCache(t)}},
		tree: Tree{Release: "5.10.0-test", Dir: tree, KbuildDir: tree, MakeArgs: []string{"CC=gcc-10"}},
		log:  slog.New(slog.DiscardHandler), work: work,
	}
	u, err := buildUser(&r.opts, tree)
	require.NoError(t, err)
	r.as = u
	require.NoError(t, asuser.Own(u, work))
	if got, err := localCompiler(ctx, "gcc-10"); err == nil && got == ident {
		t.Skip("the host has bullseye's gcc-10: auto would not use a root")
	}

	start := time.Now()
	require.NoError(t, r.setupToolchain(ctx, c))
	require.NotNil(t, r.root, "auto chose a root")
	t.Logf("gcc-10 root %s ready in %s", r.root.root.Dir, time.Since(start).Round(time.Millisecond))
	got, err := checkCompilerIn(ctx, r.root, &r.tree, c)
	require.NoError(t, err, "the check passes on the root's compiler")
	assert.Equal(t, ident, got)
	_, err = checkCompiler(ctx, &r.tree, c)
	require.Error(t, err, "the host's does not")

	// A dry run (Check) names the same root, cached now, and uses it.
	dry := &runner{opts: r.opts, tree: r.tree, log: r.log, work: work, dryRun: true}
	require.NoError(t, dry.setupToolchain(ctx, c))
	require.NotNil(t, dry.toolchainPlan)
	assert.True(t, dry.toolchainPlan.Cached)
	assert.Equal(t, r.root.root.Dir, dry.toolchainPlan.Dir)
	assert.Equal(t, ident, dry.toolchainPlan.Compiler)
	assert.Contains(t, dry.toolchainPlan.From, "bullseye")
	assert.Len(t, dry.toolchainPlan.Packages, len(r.root.root.List))
	require.NotNil(t, dry.root)
	assert.Equal(t, r.root.root.Dir, dry.root.root.Dir)

	obj := filepath.Join(work, "a.o")
	cc := &compiler{tree: tree, log: r.log, as: r.as, root: r.root}
	require.NoError(t, cc.run(ctx, "fs/a.o", [][]string{{"gcc-10", "-O2", "-c", "-o", obj, "fs/a.c"}}))
	f, err := elf.Open(obj)
	require.NoError(t, err)
	defer f.Close()
	data, err := f.Section(".comment").Data()
	require.NoError(t, err)
	var idents []string
	for _, s := range bytes.Split(data, []byte{0}) {
		if v, ok := strings.CutPrefix(string(s), "GCC: "); ok {
			idents = append(idents, v)
		}
	}
	assert.Equal(t, []string{ident}, idents)
	st, err := os.Stat(obj)
	require.NoError(t, err)
	assert.Equal(t, u.UID, st.Sys().(*syscall.Stat_t).Uid, "written by the build user")
}
