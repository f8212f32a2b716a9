// SPDX-License-Identifier: Apache-2.0

// Package klpkit is a Go SDK for kernel live patching on Photon OS.
//
// It does natively, in Go, what Photon's kpatch, kpatch-build and kpatch-utils
// (auto_livepatch.sh) do with bash, C and docker: find and fetch the exact
// kernel source and debug symbols, check patches, build a livepatch module,
// package it as an RPM, and load, unload, install and inspect livepatch
// modules through syscalls and sysfs.
//
// The data flows down this list of packages:
//
//   - photon: Photon kernels (the uname -r grammar, releases, flavors, the
//     livepatch support matrix), repositories, source and debuginfo RPMs.
//   - livepatch: patches and livepatch modules as data: parse, apply,
//     combine and validate patches; module naming and metadata.
//   - build: the pipeline from kernel source and patches to a .ko.
//   - build/objdiff: ELF object diffing of original and patched objects.
//   - build/internal/klp: livepatch module generation, link and klp relocations.
//   - kmod: load, unload, install and list livepatch modules at run time.
//   - rpmpkg: livepatch RPMs out; safe SRPM and debuginfo extraction in.
//
// A first taste, checking whether a kernel can take a livepatch:
//
//	k, err := photon.ParseKernel("5.10.118-rt67-3.ph4-rt")
//	if err != nil {
//		return err
//	}
//	if err := k.Livepatchable(); err != nil {
//		return err // wraps photon.ErrNotLivepatchable, says why
//	}
//	fmt.Println(k.Package(), k.SourceRPM()) // linux-rt linux-rt-5.10.118-3.ph4.src.rpm
//
// The root package holds what they share: Progress, the one shape of the
// progress reports every long operation sends to its ProgressFunc, and the
// sentinel errors several packages report (ErrNoChanges).
//
// The example command-line tools in examples/ (auto_livepatch, kpatch,
// kpatch-build) are built on the same packages.
package klpkit
