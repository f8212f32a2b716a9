// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
)

const goodConfig = "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n"

func TestCheckPlansWithoutBuilding(t *testing.T) {
	dir := fakeTree(t, goodConfig)
	before, err := os.ReadFile(filepath.Join(dir, "fs/a.c"))
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "out")
	work := filepath.Join(t.TempDir(), "work")
	var stages []Stage
	plan, err := Check(context.Background(), Options{
		Source:  &Tree{Release: "6.1.0-test", Dir: dir, SystemMap: "unused", MakeArgs: []string{"CC=true"}},
		Patches: []string{writePatch(t, fakePatch)}, OutputDir: out, WorkDir: work,
		SkipCompilerCheck: true, Name: "fix-a.ko",
		Progress: klpkit.On(func(e Event) { stages = append(stages, e.Stage) }),
	})
	require.NoError(t, err)
	assert.Equal(t, &Plan{
		Release: "6.1.0-test", Name: "fix-a", Module: filepath.Join(out, "fix-a.ko"),
		Compiler: plan.Compiler, Replace: true,
		Changed: []string{"fs/a.c"}, Objects: []string{"fs/a.o"},
		FullBuildHeaders: []string{}, Warnings: []string{},
	}, plan)
	assert.NotEmpty(t, plan.Compiler)
	assert.NotContains(t, stages, StageCompile, "Check compiles nothing")
	assert.Contains(t, stages, StagePatch)
	after, err := os.ReadFile(filepath.Join(dir, "fs/a.c"))
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "the tree is untouched")
	assert.NoDirExists(t, out, "Check writes no output")
}

// TestCheckSameErrorsAsRun: every refusal before compiling comes from one
// code path, so Check and Run say the same.
func TestCheckSameErrorsAsRun(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(notDir, nil, 0o644))
	for _, tc := range []struct {
		name   string
		config string
		patch  string
		edit   func(o *Options, dir string)
		is     error
		says   string
	}{
		{name: "no source", edit: func(o *Options, _ string) { o.Source = nil }, is: ErrBadOptions, says: "Source"},
		{name: "no output dir", edit: func(o *Options, _ string) { o.OutputDir = "" }, is: ErrBadOptions, says: "OutputDir"},
		{name: "output dir is a file", edit: func(o *Options, _ string) { o.OutputDir = notDir }, is: ErrBadOptions, says: "not a directory"},
		{name: "not livepatchable", config: "CONFIG_MODULES=y\n", is: ErrNotLivepatchable, says: "CONFIG_LIVEPATCH"},
		{name: "no symbols", edit: func(o *Options, dir string) { o.Source = &Tree{Release: "r", Dir: dir} }, is: ErrBadOptions, says: "vmlinux or System.map"},
		{name: "compiler mismatch", config: goodConfig + "CONFIG_CC_VERSION_TEXT=\"gcc (Imaginary 1.0) 1.0\"\n",
			edit: func(o *Options, _ string) { o.SkipCompilerCheck = false }, is: ErrCompilerMismatch, says: "Imaginary"},
		{name: "patch does not apply", patch: "--- a/fs/a.c\n+++ b/fs/a.c\n@@ -1,4 +1,4 @@\n int a(void)\n {\n-\treturn 7;\n+\treturn 2;\n }\n", says: "fs/a.c"},
		{name: "assembly", patch: "--- /dev/null\n+++ b/fs/x.S\n@@ -0,0 +1 @@\n+nop\n", is: ErrUnsupportedPatch, says: "assembly"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := tc.config
			if config == "" {
				config = goodConfig
			}
			patch := tc.patch
			if patch == "" {
				patch = fakePatch
			}
			opts := func() Options {
				dir := fakeTree(t, config)
				o := Options{
					Source:  &Tree{Release: "6.1.0-test", Dir: dir, SystemMap: "unused", MakeArgs: []string{"CC=true"}},
					Patches: []string{writePatch(t, patch)}, OutputDir: filepath.Join(t.TempDir(), "out"),
					SkipCompilerCheck: true,
				}
				if tc.edit != nil {
					tc.edit(&o, dir)
				}
				return o
			}
			_, checkErr := Check(context.Background(), opts())
			_, runErr := Run(context.Background(), opts())
			require.Error(t, checkErr)
			require.Error(t, runErr)
			if tc.is != nil {
				require.ErrorIs(t, checkErr, tc.is)
				require.ErrorIs(t, runErr, tc.is)
			}
			assert.Contains(t, checkErr.Error(), tc.says)
			// Paths differ between the two fresh trees; the words do not.
			assert.Equal(t, scrubTemp(t, runErr.Error()), scrubTemp(t, checkErr.Error()))
		})
	}
}

// scrubTemp replaces test temp paths, which differ between two trees.
func scrubTemp(t *testing.T, s string) string {
	t.Helper()
	return tempPath.ReplaceAllString(s, "TMP")
}

func TestCheckNamesHeadersForFullBuild(t *testing.T) {
	dir := fakeTree(t, goodConfig)
	writeFile(t, filepath.Join(dir, "fs/a.h"), "#define A 1\n")
	src := &fullBuildTree{tree: &Tree{Release: "6.1.0-test", Dir: dir, SystemMap: "unused", MakeArgs: []string{"CC=true"}}}
	patch := fakePatch + "--- a/fs/a.h\n+++ b/fs/a.h\n@@ -1 +1 @@\n-#define A 1\n+#define A 2\n"
	plan, err := Check(context.Background(), Options{
		Source: src, Patches: []string{writePatch(t, patch)}, OutputDir: t.TempDir(), SkipCompilerCheck: true,
	})
	require.NoError(t, err)
	assert.False(t, src.built, "Check does not build the kernel")
	assert.Equal(t, []string{"fs/a.h"}, plan.FullBuildHeaders)
	assert.Equal(t, []string{"fs/a.o"}, plan.Objects)
	assert.Equal(t, []string{"fs/a.c", "fs/a.h"}, plan.Changed)
}

var tempPath = regexp.MustCompile(regexp.QuoteMeta(os.TempDir()) + `/[^\s:,)]*`)
