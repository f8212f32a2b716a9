// SPDX-License-Identifier: Apache-2.0

package klp_test

import (
	"fmt"
	"strings"

	"github.com/klpkit/klpkit/build/internal/klp"
)

// A module that redirects one vmlinux function and stacks on earlier
// livepatches (kpatch-build -R).
func ExampleModule_Source() {
	m := &klp.Module{
		Name:      "livepatch-cmdline",
		NoReplace: true,
		Objects: []klp.Object{{
			Name:  "vmlinux",
			Funcs: []klp.Func{{OldName: "cmdline_proc_show", NewSymbol: "klpkit_new_0_0"}},
		}},
	}
	src, err := m.Source()
	if err != nil {
		panic(err)
	}
	for _, line := range strings.Split(string(src), "\n") {
		if strings.Contains(line, "old_name") || strings.Contains(line, "replace") || strings.Contains(line, "livepatch, ") {
			fmt.Println(strings.TrimSpace(line))
		}
	}
	// Output:
	// { .old_name = "cmdline_proc_show", .new_func = klpkit_new_0_0, .old_sympos = 0 },
	// .replace = false,
	// MODULE_INFO(livepatch, "Y");
}

// The name of the symbol the livepatch core resolves to the second static
// "enabled" of module binfmt_misc.
func ExampleKlpSymbolName() {
	fmt.Println(klp.KlpSymbolName("binfmt_misc", "enabled", 2))
	// Output: .klp.sym.binfmt_misc.enabled,2
}
