// SPDX-License-Identifier: Apache-2.0

package build

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPatchIncludeDir(t *testing.T) {
	root := t.TempDir()
	ov := &overlay{dir: filepath.Join(root, "overlay"), files: map[string]bool{"fs/proc/cmdline.c": true}}
	dir, err := patchIncludeDir(ov)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(root, patchIncludeName), dir, "next to the overlay, not in it")
	for _, name := range []string{"kpatch-macros.h", "kpatch-syscall.h"} {
		want, err := patchHeaders.ReadFile("include/" + name)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), name)
	}

	// A stale copy is replaced; a second call changes nothing.
	stale := filepath.Join(dir, "kpatch-macros.h")
	require.NoError(t, os.WriteFile(stale, []byte("stale"), 0o644))
	_, err = patchIncludeDir(ov)
	require.NoError(t, err)
	got, err := os.ReadFile(stale)
	require.NoError(t, err)
	assert.NotEqual(t, "stale", string(got))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary files left")

	steps, err := compileSteps(readFixtureCmd(t), "/out.o", ov)
	require.NoError(t, err)
	assert.Contains(t, steps[0], "-I"+dir, "the patched compile finds kpatch-macros.h")
	orig, err := compileSteps(readFixtureCmd(t), "/out.o", nil)
	require.NoError(t, err)
	assert.NotContains(t, orig[0], "-I"+dir, "the original compile does not")
}

func TestPatchIncludeDirError(t *testing.T) {
	root := t.TempDir()
	// A file where the include directory should be.
	require.NoError(t, os.WriteFile(filepath.Join(root, patchIncludeName), nil, 0o644))
	_, err := patchIncludeDir(&overlay{dir: filepath.Join(root, "overlay")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "patch headers")
}

// The headers define every macro name of kpatch's kpatch-macros.h and
// kpatch-syscall.h that patches use, so kpatch patches compile unchanged.
func TestPatchHeadersDefineKpatchNames(t *testing.T) {
	macros, err := patchHeaders.ReadFile("include/kpatch-macros.h")
	require.NoError(t, err)
	syscall, err := patchHeaders.ReadFile("include/kpatch-syscall.h")
	require.NoError(t, err)
	text := string(macros) + string(syscall)
	for _, name := range []string{
		"KPATCH_PRE_PATCH_CALLBACK", "KPATCH_POST_PATCH_CALLBACK",
		"KPATCH_PRE_UNPATCH_CALLBACK", "KPATCH_POST_UNPATCH_CALLBACK",
		"KPATCH_LOAD_HOOK", "KPATCH_UNLOAD_HOOK",
		"KPATCH_IGNORE_SECTION", "KPATCH_IGNORE_FUNCTION", "KPATCH_FORCE_UNSAFE",
		"KPATCH_PRINTK", "KPATCH_PRINTK_DEFERRED", "KPATCH_STATIC_CALL",
		"KPATCH_SYSCALL_DEFINE1", "KPATCH_SYSCALL_DEFINE2", "KPATCH_SYSCALL_DEFINE3",
		"KPATCH_SYSCALL_DEFINE4", "KPATCH_SYSCALL_DEFINE5", "KPATCH_SYSCALL_DEFINE6",
	} {
		assert.Regexp(t, regexp.MustCompile(`(?m)^#define `+name+`\(`), text, name)
	}
	// The section names the differ and the callback collector read.
	for _, sec := range []string{`".kpatch.ignore.functions"`, `".kpatch.ignore.sections"`, `".kpatch.callbacks." #kind`} {
		assert.Contains(t, text, sec)
	}
	assert.Contains(t, text, "typedef struct klp_object patch_object;")
}
