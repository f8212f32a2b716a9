// SPDX-License-Identifier: Apache-2.0

package build_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
)

// Build a livepatch for a local, prepared kernel tree, as kpatch-build -s
// does: the tree compiles the touched objects, the installed headers link
// the module, and vmlinux gives symbol positions.
func ExampleRun() {
	tree := &build.Tree{
		Release:   "6.1.0-56-amd64",
		Dir:       "/usr/src/linux-source-6.1",
		KbuildDir: "/lib/modules/6.1.0-56-amd64/build",
		Vmlinux:   "/usr/lib/debug/boot/vmlinux-6.1.0-56-amd64",
		MakeArgs:  []string{"CC=gcc-12", "HOSTCC=gcc-12"},
	}
	res, err := build.Run(context.Background(), build.Options{
		Source:    tree,
		Patches:   []string{"fix-cmdline.patch"},
		OutputDir: "out",
		CacheDir:  "/var/cache/klpkit",
		Progress:  klpkit.On(func(e build.Event) { fmt.Printf("%s: %s\n", e.Stage, e.Message) }),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("built", res.Module)
}

// Kernels before 5.1 (Photon 3.0's 4.19) have no atomic replace: Run
// refuses a replace build for them before it touches anything, and
// NoReplace builds a module that stacks on the livepatches already loaded.
func ExampleErrReplaceUnsupported() {
	opts := build.Options{
		Source:    &build.Tree{Release: "4.19.325-1.ph3", Dir: "/usr/src/linux-4.19.325"},
		Patches:   []string{"fix-cmdline.patch"},
		OutputDir: "out",
	}
	_, err := build.Run(context.Background(), opts)
	if errors.Is(err, build.ErrReplaceUnsupported) {
		fmt.Println("4.19: rebuild with NoReplace")
		opts.NoReplace = true
	}
	// Output: 4.19: rebuild with NoReplace
}
