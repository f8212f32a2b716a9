// SPDX-License-Identifier: Apache-2.0

// Package toolchain provisions the compiler, binutils and build tools a
// kernel was built with into a cached root directory, from the kernel's
// distribution's own package repository, and runs commands inside it.
//
// The Debian path reads a suite's InRelease (its OpenPGP clearsignature
// checked against the archive keys the caller trusts), the Packages index
// it names (by its SHA-256), resolves a package set's Depends and
// Pre-Depends into a List (sorted, with every .deb's SHA-256), and unpacks
// the listed .debs into a root: no maintainer script runs, and no entry
// may land outside the root. A root is keyed by its List, so the same list
// gives the same root; it is built under a lock in a temporary directory
// and renamed into place when complete, so a half-built root is never used.
//
// Commands run inside a root through a chroot in a private mount
// namespace, where the directories the caller names (the kernel tree, its
// output) are bind-mounted at their own paths: see Root.Command.
package toolchain
