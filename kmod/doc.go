// SPDX-License-Identifier: Apache-2.0

// Package kmod loads, unloads, installs and inspects livepatch kernel
// modules at run time, through the module syscalls and sysfs, as the kpatch
// tool does, in a form that fleet agents can embed.
//
// A System is one host. Its zero value is the real one: /sys, /proc,
// /lib/modules, /var/lib/kpatch and the host's finit_module, init_module and
// delete_module. Tests point the roots at a temporary tree and Kernel at a
// fake; package kmodtest provides both.
//
// Load reads a module (plain, .ko.gz, .ko.xz or .ko.zst: the kernel
// decompresses when /sys/module/compression names the format, kmod does
// otherwise), checks it is a livepatch built for the running kernel, loads
// it (finit_module, falling back to init_module), retries EBUSY as kpatch
// does, and waits for the transition. A transition that does not finish is
// reverted and reported as a *StalledError with the tasks that held it up.
// Unload disables, waits for the patch to leave sysfs and its reference to
// drop, and removes the module; UnloadAll does every livepatch, newest first.
// Loads and unloads are serialised across processes by a lock file.
//
// Kernels before 5.1 (Photon 3.0's 4.19) have no atomic replace and stack
// patches strictly: a disabled patch stays registered until its module goes,
// only the topmost enabled patch can be disabled, and a patch is enabled
// only above an enabled one. kmod follows those rules rather than retrying
// the kernel's EBUSY, and says which patch is in the way
// (ErrStackingEnforced). LoadOptions.RetireOlder retires the patches a
// cumulative one makes redundant; before 5.1 that needs a handover (the new
// patch down, the older ones out, the new one up again), which runs only
// with LoadOptions.AllowUnpatchedWindow.
//
// Install and Uninstall manage the boot store. The default layout is
// Photon's kpatch 0.9.8 one, /lib/modules/<kver>/livepatches; the upstream
// /var/lib/kpatch/<kver> is always read too (see StoreLayout).
//
// Module.Signature and Module.VerifySignature read a module's signature
// (signer, key id, hash) and check it against certificates; package
// kmod/modsign signs modules. A load the kernel refuses for its signature
// (ErrSignatureRequired, ErrLockdown) explains the errno (EKEYREJECTED,
// ENOKEY, EBADMSG, EPERM) and says how to sign with a key the kernel trusts.
//
// Errors wrap sentinels (ErrNotLivepatch, ErrVermagic, ErrAlreadyLoaded,
// ErrSignatureRequired, ErrTransitionStalled, ...) and, for syscall
// failures, the errno, so errors.Is works with both.
package kmod
