// SPDX-License-Identifier: Apache-2.0

// Package vmtest runs Go tests inside a QEMU guest booted from the lab
// kernel (package lab), so that tests can load and unload kernel modules,
// which nothing on the build machine can.
//
// A VM test is an ordinary Go test. [Run] boots the lab kernel with an
// initramfs holding the running test binary as /init (rebuilt with
// CGO_ENABLED=0 when it is not static) plus the files the test passes. Inside
// the guest the binary runs only this test; when it reaches Run, the guest
// function runs as the subtest "guest" under a real *testing.T, with /proc,
// /sys, /dev and /tmp mounted. Its result goes back to the host through the
// isa-debug-exit port; its output (t.Log, failures, and dmesg on failure)
// comes back through the serial console into the host test's output,
// each line prefixed "guest| ".
//
//	func TestLoadInVM(t *testing.T) {
//		vmtest.Run(t, vmtest.Config{
//			// Setup runs on the host only: build what the guest needs.
//			Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
//				kos, err := l.BuildModule(t.Context(), "testdata/mod", t.TempDir(), nil)
//				require.NoError(t, err)
//				return []vmtest.File{{Guest: "/mod.ko", Host: kos[0]}}
//			},
//		}, func(t *testing.T) {
//			// This runs in the guest, as PID 1, as root.
//			require.NoError(t, lab.LoadModule("/mod.ko"))
//		})
//	}
//
// Rules for VM tests:
//   - The code of the test function before Run also runs in the guest (the
//     guest re-runs the test to reach Run): keep it cheap and side-effect
//     free, and put host work in Config.Setup. Code after Run never runs in
//     the guest. The guest function sees only what is in the initramfs: pass
//     values through Config.Files, not through captured host variables.
//   - Gating: without KLPKIT_VMTEST=1 the test is skipped with a message;
//     with it, a missing lab (`make lab`) or qemu is a test failure.
//     `make test` sets it. [RequireLab] applies the same gate to host tests
//     that only need the lab's files.
//   - Kernels: the default is the 6.1 lab kernel; Config.Generation
//     lab.Bullseye510 boots the 5.10 one (and hands Setup its lab, whose
//     BuildModule runs kbuild in its gcc-10 toolchain root);
//     [RequireLabGeneration] gates host tests on it.
//   - Outcomes are distinct: a failing guest test ([ErrGuestFailed], also a
//     recovered Go panic, a skip at any depth inside the guest, or a guest
//     that calls t.Parallel, whose checks would run after the verdict), a
//     kernel panic
//     ([ErrKernelPanic]), a hang past Config.Timeout ([ErrTimeout]) and a
//     guest that stopped without a verdict ([ErrNoVerdict]). Each is a
//     *[BootError] carrying the serial log, and its message shows the tail.
//     Run fails the test on any of them; [Try] returns them, for tests of
//     the harness itself.
//
// [Boot] is the lower layer without package testing: it boots a kernel with
// any initramfs (see [WriteInitramfs]) and classifies the outcome; the guest
// side uses [InGuest], [SetupGuest], [Dmesg] and [ExitGuest]. klplab demo
// uses it with its own binary as /init.
//
// The VM is qemu-system-x86_64 under TCG (no KVM needed): -m 512 -smp 1
// -nic none, qboot firmware when installed, console on ttyS0; a boot to the
// verdict takes about 4-5 seconds.
package vmtest
