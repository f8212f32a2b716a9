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
//   - the packages: linux-<KVER>-<REL>.ph5.src.rpm, and
//     linux-debuginfo-<KVER>-<REL>.ph5.x86_64.rpm holding vmlinux at
//     /usr/lib/debug/lib/modules/<uname>/vmlinux-<uname>, in Photon's
//     repository layout (5.0/photon_srpms_5.0_x86_64/,
//     5.0/photon_debuginfo_5.0_x86_64/x86_64/) with repodata in each.
//
// [Prepare] does all of it once and caches it under the lab directory
// (<lab>/photon/<uname>): each step ends by writing a marker file, so an
// interrupted step is redone and a finished one skipped, and redoing a step
// invalidates the steps after it. [Open] returns a prepared lab's paths.
// Tests serve [Lab.RepoDir] on loopback (net/http/httptest) and point
// photon.Repo.BaseURLs at it. The command photonlab (internal/photonlab/cmd/photonlab)
// drives Prepare for `make lab`.
package photonlab
