// SPDX-License-Identifier: Apache-2.0

package objdiff_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/klpkit/klpkit/build/objdiff"
)

// Diff one object pair and write the patch object; refusals name the
// symbol, the rule and what to do. With the kpatch unit corpus it prints
// "changed: [sysctl_head_grab]" and "klp: [sysctl_lock]".
func Example() {
	dir := filepath.Join("..", "..", "..", "shared", "testdata", "kpatch-unit", "x86_64")
	orig, err := os.Open(filepath.Join(dir, "bug-table-section.ORIG.o"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer orig.Close()
	patched, err := os.Open(filepath.Join(dir, "bug-table-section.PATCHED.o"))
	if err != nil {
		return
	}
	defer patched.Close()

	res, err := objdiff.Diff(orig, patched, &objdiff.Options{Name: "fs/proc/proc_sysctl.o"})
	var unsupported *objdiff.UnsupportedError
	switch {
	case errors.Is(err, objdiff.ErrNoChanges):
		fmt.Println("nothing to patch")
		return
	case errors.As(err, &unsupported):
		fmt.Println("refused:", unsupported.Rule, "-", unsupported.Hint)
		return
	case err != nil:
		fmt.Println(err)
		return
	}
	var changed []string
	for _, fn := range res.Changed {
		changed = append(changed, fn.Name)
	}
	fmt.Println("changed:", changed)
	fmt.Println("klp:", res.LivepatchSymbols())
	// Written atomically: a temporary file renamed into place.
	if err := res.WriteFile("proc_sysctl-patch.o"); err != nil {
		fmt.Println(err)
	}
}
