// SPDX-License-Identifier: Apache-2.0

package toolchain_test

import (
	"context"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/labtest"
	"github.com/klpkit/klpkit/internal/needtest"
)

// TestKbuildModuleInRoot builds an external module against the lab
// kernel's headers with kbuild running inside a root provisioned with the
// kernel's own compiler (named by its config), the headers bound in.
func TestKbuildModuleInRoot(t *testing.T) {
	l, err := lab.Open(lab.DirFromEnv(os.Getenv))
	if err != nil {
		needtest.Missing(t, "needs the lab kernel's headers (make lab): %v", err)
	}
	if os.Getenv("KLPKIT_VMTEST") == "" && os.Getenv("CI") != "true" {
		t.Skip("needs Debian's archive over the network and about 90 MB of downloads: set KLPKIT_VMTEST=1 (CI runs it)")
	}
	if os.Geteuid() != 0 {
		t.Skip("running inside a toolchain root needs root (mount namespace and chroot)")
	}
	ccText, err := lab.ConfigCompiler(l.Config)
	require.NoError(t, err)
	gcc, err := toolchain.DebianCompiler(ccText)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	start := time.Now()
	root, list := labtest.BookwormRoot(t, ctx, toolchain.DebianKernelBuild(gcc))
	var size int64
	for _, e := range list {
		size += e.Size
	}
	t.Logf("%s root: %d packages, %.1f MB of .debs, ready in %s", gcc, len(list), float64(size)/1e6, time.Since(start).Round(time.Millisecond))

	// Debian's headers are a tree of links: -amd64 into -common, whose
	// scripts are linux-kbuild's. Each target directory is bound.
	headers, err := filepath.EvalSymlinks(l.HeadersDir)
	require.NoError(t, err)
	scripts, err := filepath.EvalSymlinks(filepath.Join(headers, "scripts"))
	require.NoError(t, err)
	work := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(work, "hello.c"), []byte(`#include <linux/module.h>
static int __init hello_init(void) { return 0; }
module_init(hello_init);
MODULE_LICENSE("GPL");
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(work, "Kbuild"), []byte("obj-m := hello.o\n"), 0o644))
	start = time.Now()
	_, err = root.Output(ctx, []string{filepath.Dir(headers), filepath.Dir(scripts), work}, work, "make", "-C", headers, "M="+work, "modules")
	require.NoError(t, err)
	t.Logf("kbuild in the root: %s", time.Since(start).Round(time.Millisecond))

	_, want, _ := strings.Cut(ccText, " ")
	require.NoError(t, lab.CheckBuiltBy(filepath.Join(work, "hello.ko"), want))
	f, err := elf.Open(filepath.Join(work, "hello.ko"))
	require.NoError(t, err)
	defer f.Close()
	modinfo := f.Section(".modinfo")
	require.NotNil(t, modinfo)
	info, err := modinfo.Data()
	require.NoError(t, err)
	require.Contains(t, string(info), "vermagic="+l.KernelRelease+" ")
}
