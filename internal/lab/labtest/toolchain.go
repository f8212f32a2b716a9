// SPDX-License-Identifier: Apache-2.0

package labtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/klpkit/klpkit/build/toolchain"
)

// ToolchainCache is where tests keep toolchain roots and Debian's indexes,
// shared by every package's tests so that CI downloads a root once:
// $KLPKIT_TOOLCHAIN_DIR, else "toolchain" beside the lab
// ($KLPKIT_LAB_DIR), else <user cache directory>/klpkit/toolchain.
func ToolchainCache(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("KLPKIT_TOOLCHAIN_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("KLPKIT_LAB_DIR"); d != "" {
		return filepath.Join(filepath.Dir(filepath.Clean(d)), "toolchain")
	}
	home, err := os.UserCacheDir()
	if err != nil {
		t.Fatalf("labtest: toolchain cache: %v", err)
	}
	return filepath.Join(home, "klpkit", "toolchain")
}

// BookwormRoot returns the root of Debian bookworm's packages want
// (toolchain.DebianKernelBuild of a compiler) from ToolchainCache,
// provisioning it from Debian's archive, checked against the archive
// keyring, when the cache lacks it; and the packages it holds.
func BookwormRoot(t testing.TB, ctx context.Context, want []string) (*toolchain.Root, toolchain.List) {
	t.Helper()
	keys, err := os.ReadFile(toolchain.DebianKeyring)
	if err != nil {
		t.Fatalf("labtest: Debian's archive keys: %v", err)
	}
	ring, err := toolchain.ReadKeyring(keys)
	if err != nil {
		t.Fatalf("labtest: Debian's archive keys: %v", err)
	}
	cache := ToolchainCache(t)
	d := &toolchain.Debian{Suites: toolchain.Bookworm(), Keyring: ring, IndexCache: filepath.Join(cache, "index")}
	list, err := d.Resolve(ctx, want)
	if err != nil {
		t.Fatalf("labtest: bookworm toolchain %v: %v", want, err)
	}
	root, err := (&toolchain.Cache{Dir: filepath.Join(cache, "roots")}).Provision(ctx, list)
	if err != nil {
		t.Fatalf("labtest: bookworm toolchain %v: %v", want, err)
	}
	return root, list
}
