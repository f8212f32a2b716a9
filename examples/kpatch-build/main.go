// SPDX-License-Identifier: Apache-2.0

// Command kpatch-build builds a livepatch module from source patches for a
// kernel whose prepared source tree is on this machine (any distribution's
// kernel), like dynup/kpatch's kpatch-build with a local tree (-s), on
// package build.
//
//	kpatch-build -s DIR [-c .config] [-v vmlinux | --system-map FILE] [options] PATCH...
//
// Output follows kpatch-build: status lines on stdout ("Testing patch
// file(s)", "Building patch module: X.ko", "SUCCESS"), "ERROR: ..." on
// stderr and exit status 1 on any failure. Progress goes to stderr: one
// line per step, or a redrawn status bar when stderr is a terminal.
//
// Options are upstream kpatch-build's, with its meanings: -s/--sourcedir,
// -c/--config, -v/--vmlinux, -a/--archversion, -j/--jobs, -n/--name,
// -o/--output (default: the working directory), -d/--debug (repeatable;
// keeps the scratch directory and logs every step), -R/--non-replace,
// --skip-cleanup, --skip-compiler-check (--skip-gcc-check), --version,
// -h/--help (usage on stderr, exit 0, as upstream); and Photon's
// -D/--description FILE. Upstream options klpkit cannot honour are refused
// with an error saying what to do instead, never ignored: -r/--sourcerpm
// (source RPMs: auto_livepatch builds Photon kernels from theirs) and
// -t/--target (only the objects the patches touch are compiled).
// --oot-module FILE with --oot-module-src DIR (-e is --oot-module's old
// spelling) livepatch an out-of-tree module instead of the kernel
// (build.Options.OOTModule).
//
// Options of klpkit for trees that split source and headers (Debian's, the
// test lab's): --kbuild (the tree modules link against), --symvers,
// --modules-dir, --system-map, --make-arg VAR=VALUE, --cache,
// --export-debug, --partial-header-users (a changed header in a tree not
// fully built is refused otherwise, since kpatch-build's full build is
// what finds every object that includes it) and --fuzz N (kpatch-build's
// patch step allows GNU patch's default fuzz 2; here hunks need exact
// context unless --fuzz says otherwise, and each fuzzed or moved hunk is
// printed).
//
// Signing, for kernels that require signed modules (Secure Boot lockdown,
// module.sig_enforce=1): --sign-key FILE, --sign-cert FILE and --sign-hash
// sha256|sha384|sha512 (default sha512) sign the module as the kernel's
// scripts/sign-file does, with a key the target kernel trusts.
//
// Machine-readable output: --json prints one JSON object on stdout when
// the command ends (ok, error, kernel, name, module, objects,
// changed_functions, new_functions, findings, timings, seconds), also on
// failure, and moves the status lines to stderr; --json-events writes each
// progress event as one JSON line on stderr ({"time", "source", "event"})
// instead of the text progress, leaving stdout to the status lines or the
// --json object. "ERROR: ..." lines stay on stderr.
//
// Kernels before 5.1 (Photon 3.0's 4.19) have no atomic replace: without
// -R the build stops before compiling anything with kpatch-build's
// "ERROR: The kernel doesn't support klp replace." and exit status 1.
//
// The kernel release is, in order: -a; the "Linux version" banner of the
// vmlinux; the tree's UTS_RELEASE (include/generated/utsrelease.h, what
// vermagic carries), else its include/config/kernel.release. When both -a
// and the banner give one they must agree. A tree whose kernel.release
// differs from its UTS_RELEASE (Debian's headers and sources) gets
// KERNELRELEASE on every make without being asked.
package main

import "os"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		os.Exit(1)
	}
}
