// SPDX-License-Identifier: Apache-2.0

// Package kmodtest is a fake kernel for testing code that uses package kmod
// without root or a kernel: it implements kmod.Kernel and keeps a sysfs and
// procfs tree in a temporary directory that follows the livepatch state
// machine (the patch directory appears on load, the transition completes or
// stalls on stubborn tasks, writing 0 to enabled unpatches and the directory
// vanishes, the module's reference drops, replace patches retire older ones,
// force and signal work as on 4.15–5.0 kernels). Failures are injected with
// Fail; BuildModule makes module files without a compiler.
//
//	k := kmodtest.New(t, nil)
//	sys := k.System()
//	path, _ := kmodtest.WriteModule(t.TempDir(), "livepatch-test.ko",
//		kmodtest.ModuleSpec{Name: "livepatch_test", Livepatch: true})
//	_, err := sys.Load(ctx, path, &kmod.LoadOptions{Timing: kmodtest.FastTiming()})
package kmodtest
