// SPDX-License-Identifier: Apache-2.0

// Package photontoolchain provisions a Photon kernel's compiler, binutils,
// glibc-devel and make, with what they require, from the kernel's Photon
// release's own repositories into a build/toolchain root: build.Run's
// chroot runner uses it as it uses a Debian root.
//
// Index reads each repository's repomd.xml and the primary list it names
// (checked against repomd.xml's checksum by package photon/kernelsrc,
// which already reads Photon's repositories), with each package's
// provides, requires and listed files; a package must be listed by its
// SHA-256 or SHA-512 (createrepo's sha256 default, or sha512): SHA-1, md5
// or none fails the repository, naming the file and the package. Resolve
// turns a package set into the closure of its requirements (package
// names, virtual provides, file paths, and rpm 4.13's rich dependencies
// such as Photon's "(coreutils or coreutils-selinux or toybox)"; the
// newest version wins unless a requirement pins one, and a choice that
// leads to a dead end is undone for the next candidate, within a bound)
// as a toolchain.List: every RPM named by URL, digest and size. Provisioner
// hands that list to toolchain.Cache, which downloads and checks each
// package, and unpacks it here: its OpenPGP signature is checked against
// the trusted keys (kernelsrc.VerifyRPMSignature) when they are given, its
// header must name the package the repodata listed, and rpmpkg.Extract
// writes the payload (header, file and payload digests verified; no entry
// outside the root; no scriptlet runs). Roots are cached by their list,
// built under a lock and renamed into place when complete, as Debian's.
//
// Why here: build/toolchain may not import photon (it serves any
// distribution, and the Debian path must not pull in Photon's repository
// code), and photon/... may not import build. A package below build that
// imports both photon/kernelsrc and build/toolchain is the one place that
// may join Photon's repositories to the root cache. build reaches it
// without importing it (build serves any kernel): build/photonsource, the
// Photon kernel's build.Source, offers it as Capabilities.Toolchain, and
// Run's auto mode calls that when the host's compiler is not the kernel's.
package photontoolchain
