// SPDX-License-Identifier: Apache-2.0

package build_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/klpkit/klpkit/build"
)

// Check answers "would this build?" before anything is compiled: here for
// a tiny prepared tree (a config and one C file) and a patch to it.
func ExampleCheck() {
	dir, err := os.MkdirTemp("", "klpkit-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	write := func(rel, body string) {
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o755)
		_ = os.WriteFile(filepath.Join(dir, rel), []byte(body), 0o644)
	}
	write("src/.config", "CONFIG_LIVEPATCH=y\nCONFIG_MODULES=y\n")
	write("src/fs/proc/cmdline.c", "int cmdline(void)\n{\n\treturn 1;\n}\n")
	write("fix.patch", "--- a/fs/proc/cmdline.c\n+++ b/fs/proc/cmdline.c\n@@ -1,4 +1,4 @@\n int cmdline(void)\n {\n-\treturn 1;\n+\treturn 2;\n }\n")

	plan, err := build.Check(context.Background(), build.Options{
		Source: &build.Tree{Release: "6.1.0-56-amd64", Dir: filepath.Join(dir, "src"),
			SystemMap: filepath.Join(dir, "System.map")},
		Patches:           []string{filepath.Join(dir, "fix.patch")},
		OutputDir:         filepath.Join(dir, "out"),
		SkipCompilerCheck: true,
	})
	switch {
	case errors.Is(err, build.ErrNotLivepatchable), errors.Is(err, build.ErrUnsupportedPatch):
		fmt.Println("cannot be livepatched:", err)
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Println(plan.Name, plan.Objects)
	}
	// Output: livepatch-fix [fs/proc/cmdline.o]
}
