// SPDX-License-Identifier: Apache-2.0

package toolchain_test

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/lab/labtest"
)

// The compiler that built Debian's 5.10 kernels, as vmlinux's .comment and
// CONFIG_CC_VERSION_TEXT name it.
const (
	bullseyeGCC      = "gcc-10=10.2.1-6"
	bullseyeGCCIdent = "(Debian 10.2.1-6) 10.2.1 20210110"
)

// TestBullseyeGCC10Root provisions bullseye's gcc-10 on this (bookworm)
// host from Debian's archive, runs it inside the root and compiles with it.
func TestBullseyeGCC10Root(t *testing.T) {
	if os.Getenv("KLPKIT_VMTEST") == "" && os.Getenv("CI") != "true" {
		t.Skip("needs Debian's archive over the network and about 60 MB of downloads: set KLPKIT_VMTEST=1 (CI runs it)")
	}
	if os.Geteuid() != 0 {
		t.Skip("running inside a toolchain root needs root (mount namespace and chroot)")
	}
	keys, err := os.ReadFile(toolchain.DebianKeyring)
	require.NoError(t, err, "the debian-archive-keyring package holds bullseye's archive keys")
	ring, err := toolchain.ReadKeyring(keys)
	require.NoError(t, err)
	cache := labtest.ToolchainCache(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()

	start := time.Now()
	d := &toolchain.Debian{Suites: toolchain.Bullseye(), Keyring: ring, IndexCache: filepath.Join(cache, "index")}
	idx, err := d.Index(ctx)
	require.NoError(t, err)
	list, err := idx.Resolve([]string{bullseyeGCC, "binutils", "libc6-dev", "make", "dash"})
	require.NoError(t, err)
	gcc, ok := list.Find("gcc-10")
	require.True(t, ok)
	require.Equal(t, "10.2.1-6", gcc.Version)
	binutils, ok := list.Find("binutils")
	require.True(t, ok)
	require.Equal(t, "2.35.2-2", binutils.Version, "bullseye's binutils")
	var size int64
	for _, e := range list {
		size += e.Size
	}
	t.Logf("resolved %d packages, %.1f MB of .debs, in %s", len(list), float64(size)/1e6, time.Since(start).Round(time.Millisecond))

	// The set a 5.10 kernel's kbuild needs resolves from the same indexes.
	kernelSet, err := idx.Resolve(toolchain.DebianKernelBuild(bullseyeGCC))
	require.NoError(t, err)
	var kernelSize int64
	for _, e := range kernelSet {
		kernelSize += e.Size
	}
	t.Logf("a kernel build root: %d packages, %.1f MB of .debs", len(kernelSet), float64(kernelSize)/1e6)

	start = time.Now()
	root, err := (&toolchain.Cache{Dir: filepath.Join(cache, "roots")}).Provision(ctx, list)
	require.NoError(t, err)
	t.Logf("root %s ready in %s", root.Dir, time.Since(start).Round(time.Millisecond))
	written, err := os.ReadFile(filepath.Join(root.Dir, toolchain.ListFile))
	require.NoError(t, err)
	require.Equal(t, list.String(), string(written))

	// The compiler check, as build does it: the first line of --version
	// without the program name against the kernel's identification.
	line, err := root.VersionLine(ctx, "gcc-10")
	require.NoError(t, err)
	_, ident, _ := strings.Cut(line, " ")
	require.Equal(t, bullseyeGCCIdent, ident, "gcc-10 --version in the root: %q", line)

	// Compile in a host directory bound into the root, through make and sh
	// as kbuild would, and check what the object says built it.
	work := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(work, "t.c"), []byte("int answer(int x) { return x * 42; }\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(work, "Makefile"), []byte("t.o: t.c\n\tgcc-10 -O2 -c -o $@ $<\n"), 0o644))
	_, err = root.Output(ctx, []string{work}, work, "make")
	require.NoError(t, err)
	f, err := elf.Open(filepath.Join(work, "t.o"))
	require.NoError(t, err)
	defer f.Close()
	sec := f.Section(".comment")
	require.NotNil(t, sec)
	data, err := sec.Data()
	require.NoError(t, err)
	var idents []string
	for _, s := range bytes.Split(data, []byte{0}) {
		if v, ok := strings.CutPrefix(string(s), "GCC: "); ok {
			idents = append(idents, v)
		}
	}
	require.Equal(t, []string{bullseyeGCCIdent}, idents, "t.o .comment: %q", data)

	// As a build user (kbuild never runs as root): chroot first, then the
	// user's credentials.
	userDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(userDir, "t.c"), []byte("int f(void) { return 1; }\n"), 0o644))
	require.NoError(t, os.Chown(userDir, 65534, 65534))
	cmd, err := root.Command(ctx, "gcc-10", "-c", "-o", "t.o", "t.c")
	require.NoError(t, err)
	cmd.Dir = userDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, root.Start(cmd, []string{userDir}))
	require.NoError(t, cmd.Wait(), stderr.String())
	fi, err := os.Stat(filepath.Join(userDir, "t.o"))
	require.NoError(t, err)
	require.Equal(t, uint32(65534), fi.Sys().(*syscall.Stat_t).Uid, "t.o written by the build user")

	// A second provisioning of the same list is the cached root.
	again, err := (&toolchain.Cache{Dir: filepath.Join(cache, "roots")}).Provision(ctx, list)
	require.NoError(t, err)
	require.Equal(t, root.Dir, again.Dir)
}
