// SPDX-License-Identifier: Apache-2.0

// Command auto_livepatch builds a livepatch module, and optionally its RPM,
// for a Photon OS kernel from source patches, like Photon's Gen-1
// auto_livepatch.sh (kpatch-utils), on klpkit's packages instead of docker:
// the kernel's source and debuginfo RPMs come from Photon's repositories (or
// a mirror, a local directory, or -s/-v files), verified against the
// repository's checksums and cached; the tree is prepared from the source
// RPM's spec; build.Run makes the module; rpmpkg packages it.
//
//	auto_livepatch -k 6.1.138-2.ph5 -p fix1.patch fix2.patch --rpm
//
// Options and defaults are auto_livepatch.sh's (-k -p -n -o -R
// --export-debuginfo -d --rpm --rpm-version --rpm-release --rpm-desc -s -v
// -h); --exportdebuginfo is accepted as Photon's docs spell it. Additions:
// --mirror URL (repeatable), --repo-dir DIR, --cache DIR, --work DIR, -j,
// --symvers FILE, --make-arg VAR=VALUE, --skip-compiler-check, --fuzz N
// (hunks may apply with up to N differing context lines at each end, as
// patch -F N; default 0) and --signing-key FILE (require RPM signatures by
// these OpenPGP keys).
//
// --sign-key FILE, --sign-cert FILE and --sign-hash sha256|sha384|sha512
// (default sha512) sign the module as the kernel's scripts/sign-file does,
// for hosts that require signed modules (Secure Boot lockdown,
// module.sig_enforce=1); the RPM then carries the signed module.
// --rpm-sign-key FILE signs the RPM itself with an OpenPGP private key; its
// passphrase comes from --rpm-sign-passphrase-file FILE or
// $KLPKIT_RPM_SIGN_PASSPHRASE.
//
// --check is a dry run: the RPMs are fetched and verified and the tree
// prepared as for a build (cached), then build.Check runs every check the
// build makes before compiling and the module, RPM and objects it would
// build are printed; nothing is compiled or written to the output
// directory. A toolchain root of the kernel's compiler (--toolchain auto,
// the host's compiler not the kernel's) is not provisioned: the check
// prints the root, its packages, where they come from and whether it is
// cached. --json prints one JSON object on stdout at the end (also on
// failure; the status lines then go to stderr); --json-events writes the
// progress as JSON lines on stderr instead of text (see the README).
//
// Patch arguments: every -p value and every argument that is not an option
// or an option's value is a patch, in the order given. So `-p a b c`,
// `-p a -p b -p c` and `a b -p c` all build a, b and c; a value-taking option
// takes exactly one value (`-n x y` makes y a patch), and never an option
// (`-o -R` is an error, as in the script).
//
// Unlike the script: -h works without root or docker; every failure prints
// "ERROR: ..." on stderr and exits 1; nothing is written to the output
// directory unless the whole run succeeds (the module and RPM are built in
// a staging directory and renamed into place); -k is parsed and checked for
// livepatch support before anything is downloaded; with --rpm the output
// directory keeps the .ko beside the RPM.
package main

import "os"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		os.Exit(1)
	}
}
