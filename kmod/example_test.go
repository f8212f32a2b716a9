// SPDX-License-Identifier: Apache-2.0

package kmod_test

import (
	"context"
	"fmt"
	"os"

	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
)

// Load a livepatch module, list what is live, and unload it. On a real host
// the zero System is used (var sys kmod.System); here a fake kernel stands in.
func ExampleSystem_Load() {
	dir, _ := os.MkdirTemp("", "kmod-example")
	defer os.RemoveAll(dir)
	k, _ := kmodtest.Start(dir, nil)
	defer k.Close()
	sys := k.System()
	path, _ := kmodtest.WriteModule(dir, "livepatch-fix.ko.xz",
		kmodtest.ModuleSpec{Name: "livepatch_fix", Livepatch: true})

	ctx := context.Background()
	res, err := sys.Load(ctx, path, &kmod.LoadOptions{Timing: kmodtest.FastTiming()})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("loaded", res.Module.Name, "compression", res.Module.Compression)

	lps, _ := sys.Livepatches()
	for _, lp := range lps {
		fmt.Println(lp.Name, "enabled:", lp.Enabled, "objects:", lp.Objects[0].Name)
	}

	name, err := sys.Unload(ctx, "livepatch-fix", &kmod.UnloadOptions{Timing: kmodtest.FastTiming()})
	fmt.Println("unloaded", name, err)
	// Output:
	// loaded livepatch_fix compression xz
	// livepatch_fix enabled: true objects: vmlinux
	// unloaded livepatch_fix <nil>
}

// Read a module's .modinfo.
func ExampleParseModInfo() {
	mi, _ := kmod.ParseModInfo([]byte("livepatch=Y\x00license=GPL\x00vermagic=6.1.0-56-amd64 SMP preempt mod_unload modversions \x00"))
	fmt.Println(mi.Livepatch, mi.License, mi.Release())
	// Output: true GPL 6.1.0-56-amd64
}
