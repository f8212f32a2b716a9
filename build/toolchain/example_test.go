// SPDX-License-Identifier: Apache-2.0

package toolchain_test

import (
	"context"
	"fmt"
	"os"

	"github.com/klpkit/klpkit/build/toolchain"
)

// Provision the compiler that built a Debian 11 kernel, on any host, and
// compile a kernel tree's objects with it.
func Example() {
	ctx := context.Background()
	keys, err := os.ReadFile(toolchain.DebianKeyring)
	if err != nil {
		fmt.Println(err)
		return
	}
	ring, err := toolchain.ReadKeyring(keys)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The kernel's CONFIG_CC_VERSION_TEXT names its compiler.
	gcc, err := toolchain.DebianCompiler("gcc-10 (Debian 10.2.1-6) 10.2.1 20210110")
	if err != nil {
		fmt.Println(err)
		return
	}
	d := &toolchain.Debian{Suites: toolchain.Bullseye(), Keyring: ring}
	list, err := d.Resolve(ctx, toolchain.DebianKernelBuild(gcc))
	if err != nil {
		fmt.Println(err)
		return
	}
	root, err := (&toolchain.Cache{Dir: "/var/cache/klpkit/toolchain"}).Provision(ctx, list)
	if err != nil {
		fmt.Println(err)
		return
	}
	// kbuild runs inside the root, the tree mounted at its own path.
	tree := "/usr/src/linux-5.10"
	out, err := root.Output(ctx, []string{tree}, tree, "make", "CC=gcc-10", "kernel/fork.o")
	fmt.Println(string(out), err)
}
