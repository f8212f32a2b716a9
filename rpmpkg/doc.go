// SPDX-License-Identifier: Apache-2.0

// Package rpmpkg writes livepatch RPMs and reads RPMs safely.
//
// Writing: Write encodes any package described by a Spec (binary or source,
// files, directories, symlinks, relations, scriptlets, changelog, optional
// OpenPGP signatures) on top of github.com/google/rpmpack; Build makes the livepatch
// package Photon's auto_livepatch.sh --rpm produces: NAME-VER-REL.phN.x86_64.rpm
// with the module at /var/opt/kpatch/modules/NAME.ko, Requires: kpatch, and
// scriptlets that install the module for the target kernel, load it when
// that kernel is running, and unload it on erase without ever failing rpm -e.
// Build reads the module first: it must be a livepatch module (livepatch=Y)
// whose vermagic names the target kernel, and the scriptlets unload it by
// its own in-kernel name. Unlike Photon's template the scriptlets honour $1,
// so an upgrade leaves the new patch loaded, and they work in image builds:
// in a root that is not the running system (rpm --root, tdnf --installroot,
// a chroot) they install for boot and load nothing; on a live host running
// another kernel they do the same when the target kernel is installed, and
// refuse otherwise. The same inputs and BuildTime (SOURCE_DATE_EPOCH) give
// the same bytes.
//
// Reading: Read and Inspect report header fields, files and scriptlets and
// verify the header SHA256 and the payload digest. The package decodes RPM
// headers itself, bounds-checking every entry against its store (tests compare
// it with github.com/cavaliergopher/rpm, which stays out of the import graph:
// it needs the deprecated golang.org/x/crypto/openpgp). Extract writes a payload
// (gzip, xz, lzma, zstd, bzip2) into a directory through os.Root, refusing
// entries that would escape it (symlink chains judged as the kernel resolves
// them), bounding sizes, checking the payload digest before writing anything
// and each file's digest as it goes, and leaving the directory as it was
// (replaced files restored) when anything fails.
package rpmpkg
