package build_test

import (
	"context"
	"fmt"
	"log"

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
		Progress:  func(e build.Event) { fmt.Printf("%s: %s\n", e.Stage, e.Message) },
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("built", res.Module)
}
