// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ootFakePatch = "--- a/m.c\n+++ b/m.c\n@@ -1,4 +1,4 @@\n int m(void)\n {\n-\treturn 1;\n+\treturn 2;\n }\n"

// ootFake is a kernel tree, an out-of-tree module's source and its .ko
// (named klpkit_oot in its .modinfo).
func ootFake(t *testing.T) (tree string, o *OOTModule) {
	t.Helper()
	tree = fakeTree(t, goodConfig)
	src := t.TempDir()
	writeOOTFile(t, filepath.Join(src, "Kbuild"), []byte("obj-m := klpkit_oot.o\n"))
	writeOOTFile(t, filepath.Join(src, "m.c"), []byte("int m(void)\n{\n\treturn 1;\n}\n"))
	ko := writeOOTFile(t, filepath.Join(t.TempDir(), "klpkit_oot.ko"), elfWithSection(t, ".modinfo", "name=klpkit_oot\x00"))
	return tree, &OOTModule{Module: ko, Source: src}
}

// Check of an out-of-tree build applies the patches to the module's
// source, leaves it untouched, and plans no kernel objects (the module's
// are found by building it).
func TestCheckOOT(t *testing.T) {
	tree, o := ootFake(t)
	plan, err := Check(context.Background(), Options{
		Source:  &Tree{Release: "6.1.0-test", Dir: tree, SystemMap: "unused", MakeArgs: []string{"CC=true"}},
		Patches: []string{writePatch(t, ootFakePatch)}, OutputDir: t.TempDir(),
		SkipCompilerCheck: true, Name: "oot-fix", OOTModule: o,
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"m.c"}, plan.Changed)
	assert.Empty(t, plan.Objects)
	data, err := os.ReadFile(filepath.Join(o.Source, "m.c"))
	require.NoError(t, err)
	assert.Contains(t, string(data), "return 1;", "the module source is untouched")
}

// Check and Run refuse alike, before compiling, a patch that changes the
// kernel tree, alone or with the module.
func TestOOTRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, patch, says string
		is                error
	}{
		{"kernel file too", ootFakePatch + fakePatch, "changes fs/a.c, a file of the kernel tree", ErrBadOptions},
		{"kernel file only", fakePatch, "changes fs/a.c, a file of the kernel tree", ErrBadOptions},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree, o := ootFake(t)
			opts := Options{
				Source:  &Tree{Release: "6.1.0-test", Dir: tree, SystemMap: "unused", MakeArgs: []string{"CC=true"}},
				Patches: []string{writePatch(t, tc.patch)}, OutputDir: t.TempDir(),
				SkipCompilerCheck: true, Name: "oot-fix", OOTModule: o,
			}
			_, checkErr := Check(context.Background(), opts)
			_, runErr := Run(context.Background(), opts)
			for _, err := range []error{checkErr, runErr} {
				require.ErrorIs(t, err, tc.is)
				require.ErrorContains(t, err, tc.says)
			}
			assert.Equal(t, checkErr.Error(), runErr.Error())
		})
	}
}
