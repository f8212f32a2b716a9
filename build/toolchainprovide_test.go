// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/toolchain"
)

// provideSource is a tree whose source provides its kernel's toolchain.
type provideSource struct {
	tree    *Tree
	provide func(ctx context.Context, compiler, cacheDir string) (*toolchain.Root, error)
}

func (s provideSource) Tree(context.Context) (*Tree, error) { return s.tree, nil }
func (s provideSource) Capabilities() Capabilities          { return Capabilities{Toolchain: s.provide} }

// Auto mode asks a source that provides its kernel's toolchain, instead of
// Debian's archive, when the host's compiler is not the kernel's; never
// when it is.
func TestSetupToolchainFromSource(t *testing.T) {
	hostCC := fakeCompiler(t, "gcc (Debian 12.2.0-14) 12.2.0")
	tree := openTempDir(t)
	rootDir := t.TempDir()
	errBoom := errors.New("no repository")
	var asked []string
	for _, tc := range []struct {
		name, kernel string
		fail         bool
		wantAsk      bool
	}{
		{name: "host compiler is the kernel's", kernel: "gcc (Debian 12.2.0-14) 12.2.0"},
		{name: "provided", kernel: "gcc (GCC) 12.2.0", wantAsk: true},
		{name: "provider fails", kernel: "gcc (GCC) 12.2.0", fail: true, wantAsk: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked = nil
			src := provideSource{tree: &Tree{Dir: tree}, provide: func(_ context.Context, compiler, cacheDir string) (*toolchain.Root, error) {
				asked = append(asked, compiler, cacheDir)
				if tc.fail {
					return nil, errBoom
				}
				return &toolchain.Root{Dir: rootDir}, nil
			}}
			r := &runner{
				opts: Options{Source: src, Toolchain: Toolchain{Mode: ToolchainAuto, CacheDir: filepath.Join(tree, "cache")}},
				tree: Tree{Release: "6.1.10-1.ph5", Dir: tree, KbuildDir: tree, MakeArgs: []string{"CC=" + hostCC}},
				log:  slog.New(slog.DiscardHandler), work: tree,
			}
			err := r.setupToolchain(t.Context(), kconfig{"CONFIG_CC_VERSION_TEXT": tc.kernel})
			switch {
			case !tc.wantAsk:
				require.NoError(t, err)
				assert.Nil(t, r.root)
				assert.Empty(t, asked)
			case os.Geteuid() != 0:
				require.ErrorIs(t, err, toolchain.ErrNeedsRoot)
				require.ErrorIs(t, err, ErrToolchainUnavailable)
				assert.Empty(t, asked, "a root that could not be used is not provisioned")
			case tc.fail:
				require.ErrorIs(t, err, errBoom)
				require.ErrorIs(t, err, ErrToolchainUnavailable)
				require.ErrorIs(t, err, ErrCompilerMismatch)
				assert.Nil(t, r.root)
			default:
				require.NoError(t, err)
				assert.Equal(t, []string{"(GCC) 12.2.0", filepath.Join(tree, "cache")}, asked)
				require.NotNil(t, r.root)
				assert.Equal(t, rootDir, r.root.root.Dir)
			}
		})
	}
}
