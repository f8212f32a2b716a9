// SPDX-License-Identifier: Apache-2.0

// Package photonlab builds the Photon lab: a lab kernel versioned like a
// Photon OS 5.0 kernel, and a Photon-layout package repository serving
// exactly what that kernel was built from, so that klpkit's whole Photon
// flow (fetch, verify, prepare, build, package, load) runs against it.
//
// Photon's own repositories cannot be reached from the build machines, so
// the lab makes their likeness from the Debian 6.1 kernel source that
// package lab already uses:
//
//   - the source tarball: Debian's linux-source-6.1 tarball (the pristine
//     source, fetched with apt at the lab kernel's version) repacked as
//     linux-<KVER>.tar.xz with the linux-<KVER>/ top directory Photon's
//     %setup expects;
//   - a spec in Photon's style (testdata/photonlab/linux.spec.in) whose
//     %prep applies the lab's patches (testdata/photonlab/patches, PatchN
//     taken from the file name's number) with %autopatch ranges;
//   - config_x86_64: `make allnoconfig` plus the fragment
//     testdata/photonlab/config-fragment merged with merge_config.sh and
//     olddefconfig (every option of the fragment is checked afterwards);
//   - the kernel: the tarball unpacked, the patches applied in the spec's
//     order, CONFIG_LOCALVERSION="-<REL>.ph5" (so uname -r is
//     <KVER>-<REL>.ph5, a livepatchable Photon 5 kernel) and built out of
//     tree with gcc-12;
//   - module signing in every flavor, as in every livepatchable Photon
//     config (CONFIG_MODULE_SIG, sha512, not forced): the config names
//     its signing files inside the tree, so the source RPM builds as any
//     user: kbuild's certs/signing_key.pem (CONFIG_MODULE_SIG_KEY, sha512,
//     made by the build), and a lab signing key's certificate
//     (CONFIG_SYSTEM_TRUSTED_KEYS=certs/klpkit_lab_cert.pem, Source2 of
//     each source RPM, copied there by its %prep) in the built-in
//     keyring. The key (RSA, made once with Go's crypto and kept in
//     <lab>/photon/<uname>/signing, named by [Lab.SigningKey] and
//     [Lab.SigningCert]) is hashed into a generated fragment, so a new key
//     rebuilds the kernel; booted with module.sig_enforce=1 the kernel
//     loads only modules signed with a key it trusts, and without it
//     loads unsigned ones with the unsigned-module taint;
//   - a second flavor, aws by default (uname <KVER>-<REL>.ph5-aws): its
//     own config-aws (the fragment plus config-fragment-aws: its host
//     name, so it differs from generic's config only there and in
//     CONFIG_LOCALVERSION), spec (linux-aws.spec) and build, from the same
//     tree and generic's objects: built in generic's build directory
//     (whose path objtool's build records) while a copy of it is kept
//     aside and put back after, so kbuild recompiles only what the two
//     configs' differences reach (and makes aws its own module signing
//     key), and aws's debug information names generic's build directory
//     as its compilation directory;
//   - the packages, for each flavor: linux[-aws]-<KVER>-<REL>.ph5.src.rpm
//     (spec, tarball, the flavor's config, patches) and
//     linux[-aws]-debuginfo-<KVER>-<REL>.ph5.x86_64.rpm holding vmlinux at
//     /usr/lib/debug/lib/modules/<uname>/vmlinux-<uname>, and
//     linux[-aws]-devel-<KVER>-<REL>.ph5.x86_64.rpm holding the build's
//     .config, Module.symvers and generated headers under
//     /usr/src/linux-headers-<uname>/ (with /lib/modules/<uname>/build
//     pointing there), in Photon's repository layout
//     (5.0/photon_srpms_5.0_x86_64/, 5.0/photon_debuginfo_5.0_x86_64/x86_64/,
//     5.0/photon_updates_5.0_x86_64/x86_64/) with repodata in each;
//   - klpkit's own RPMs for Photon 5.0 (make rpms; [Config.Packages], as
//     `make lab-photon` passes them), in the updates repository beside the
//     devel RPMs, whose repodata (relations and program paths in
//     primary.xml, from the headers) resolves `tdnf install kpatch` to
//     klpkit-kpatch.
//
// [Prepare] does all of it once and caches it under the lab directory
// (<lab>/photon/<generic uname>): each step ends by writing a marker file
// holding the digest of its inputs, so an interrupted step is redone, a
// finished one skipped, a step whose assets changed redone, and redoing a
// step invalidates the steps after it. [Open] returns a prepared lab's
// paths, generic flavor first; [Lab.Flavor] gives another flavor's.
// Tests serve [Lab.RepoDir] on loopback (net/http/httptest) and point
// kernelsrc.Repo.BaseURLs (or auto_livepatch --mirror) at it. The command
// photonlab (internal/lab/photonlab/cmd/photonlab) drives Prepare for `make lab-photon` (part of `make lab-all`).
//
// The package's VM tests boot each flavor's kernel (vmtest.Config.Kernel),
// check that package kernelsrc prepares, from the served repository, exactly
// the tree and .config the kernel was built from, and run the end-to-end
// flow: auto_livepatch -k <uname> -p <patch> --rpm against the loopback
// repository, then, in the VM, Debian's rpm (the host's, with its
// libraries and a database of the guest's own) installing klpkit's kpatch
// package and the livepatch RPMs, their scriptlets checking, loading and
// unloading (busybox sh), a cumulative second patch replacing the first
// (testdata/photonlab/livepatch), a simulated boot (kpatch.service's
// command), rpm -U from version 1 to 2 with the patch live throughout, and
// rpm -V (aws's livepatches signed with the lab key, and loaded without
// the unsigned-module taint; generic's unsigned);
// and, on the generic kernel booted with module.sig_enforce=1, a livepatch
// signed with the lab key loads while unsigned and wrongly signed copies
// are refused with kpatch's explanation.
package photonlab
