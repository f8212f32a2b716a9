// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab"
)

// TestExportVersionsLab builds, on the host against the lab kernel
// (CONFIG_MODVERSIONS, genksyms), two patches to fs/seq_file.o, an object
// with exports: one that changes the symbol versions of its exports is
// refused, one that changes only a function body builds.
// On every lab kernel generation: 5.10's genksyms runs in its toolchain
// root, and the patches apply to its fs/seq_file.c as they are.
func TestExportVersionsLab(t *testing.T) {
	onEachLab(t, exportVersions)
}

func exportVersions(t *testing.T, l *lab.Lab) {
	tree := labTree(t, l)
	cache := t.TempDir()
	run := func(patch, cache string) (*build.Result, error) {
		return build.Run(t.Context(), build.Options{
			Source: tree, Patches: []string{labPatch(l, patch)},
			OutputDir: t.TempDir(), CacheDir: cache, Toolchain: labToolchain(l),
		})
	}

	_, err := run("seq-file-export-crc.patch", cache)
	require.Error(t, err)
	require.ErrorIs(t, err, build.ErrExportVersionChanged)
	assert.ErrorIs(t, err, build.ErrUnsupportedPatch)
	var ve *build.ExportVersionError
	require.True(t, errors.As(err, &ve), "%v", err)
	assert.Equal(t, "fs/seq_file.o", ve.Object)
	var names []string
	for _, c := range ve.Changes {
		names = append(names, c.Symbol)
		assert.NotEqual(t, c.Old, c.New, c.Symbol)
	}
	assert.Contains(t, names, "seq_lseek")
	assert.Contains(t, names, "seq_read")
	assert.Contains(t, err.Error(), "seq_lseek")
	assert.Contains(t, err.Error(), "__GENKSYMS__", "the message says what to do")
	t.Logf("refused: %v", err)

	// The body-only fix builds, with the original side compiled and with
	// it (and its symbol versions) from the cache the refused build filled.
	for _, pass := range []string{"uncached", "cached"} {
		res, err := run("seq-lseek-export-body.patch", map[string]string{"cached": cache}[pass])
		require.NoError(t, err, pass)
		require.Len(t, res.Objects, 1, pass)
		assert.Equal(t, "fs/seq_file.o", res.Objects[0].Path, pass)
		assert.Equal(t, []string{"seq_lseek"}, res.Objects[0].Changed, pass)
		assert.Equal(t, pass == "cached", res.Objects[0].Cached, pass)
	}
}
