// SPDX-License-Identifier: Apache-2.0

// Package lab prepares and describes the kernel of klpkit's QEMU test lab.
//
// Nothing on a build machine can load a module into the host kernel, so every
// claim that klpkit loads, patches or unloads a livepatch is proven in a VM
// running Debian bookworm's own 6.1 kernel. [Prepare] fetches that kernel from
// the Debian archive through apt: it resolves the ABI that linux-headers-amd64
// currently points to (the security suite moves it, so it is never fixed),
// unpacks only vmlinuz, config and a few modules ([GuestModules]) from the
// image package, only vmlinux and the real System.map from the -dbg package,
// installs the matching headers and, on request, unpacks and prepares the
// matching linux-source-6.1 tree (olddefconfig and prepare with the headers'
// .config and gcc-12).
//
// A second generation, Debian bullseye's 5.10 ([Bullseye510], in the
// subdirectory 5.10 of the lab directory: [Generation.Dir]), comes from
// Debian 11's archive through build/toolchain's signed indexes and verified
// downloads, since the host's apt knows only bookworm. It was built with
// gcc-10, which a bookworm host cannot install: its headers go into a
// bullseye toolchain root holding that compiler (pinned to the exact
// version CONFIG_CC_VERSION_TEXT names), binutils and glibc, and every
// kbuild run against it, the source tree's preparation included, runs in
// that root ([Lab.Make]); the same headers are installed on the host at
// Debian's paths (/usr/src/linux-headers-<release> and the trees it leads
// to, hard links into the root marked as the lab's), where the
// unprivileged build user reaches them.
//
// The rt flavor of bookworm's kernel ([Bookworm61RT], PREEMPT_RT, in the
// subdirectory 6.1-rt; [RTGenerations]) comes through apt as 6.1 does. Its
// source tree is linux-source-6.1 with Debian's rt series
// (debian/patches-rt) applied with no fuzz, from the newest upload in the
// kernel's changelog whose debian tarball the archive still serves
// (through the signed InRelease and Sources chain), corrected by the
// changelog's later rt items, and proven against the rt headers package
// file by file, the rt version and the rt config (rt.go); what it was
// made from is in [Lab.RTSeries].
//
// Everything is cached under one directory. Each step ends by writing a marker
// file, so an interrupted step is redone and a finished one is skipped; a second
// Prepare does no work. [Open] reads a prepared lab and returns its paths:
//
//	l, err := lab.Open(dir)
//	// l.Vmlinuz, l.Vmlinux, l.SystemMap, l.Config, l.HeadersDir, l.SourceDir, l.ModulesDir
//
// [Lab.BuildModule] builds an out-of-tree module (for example the sample
// livepatch in testdata/lab/livepatch-sample) against the lab's headers with
// kbuild. The guest-side helpers [LoadModule], [DisableLivepatch] and
// [UnloadModule] are the lab's own raw-syscall loader, used by its end-to-end
// check; package kmod is the real API.
//
// Package vmtest boots the lab kernel; the command klplab (make lab, make demo)
// drives this package.
package lab
