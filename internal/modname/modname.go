// SPDX-License-Identifier: Apache-2.0

// Package modname holds the kernel's rule for module names, used by kmod
// (kmod.ModuleName), livepatch (livepatch.KernelModuleName) and the
// packages that compare module names (build, rpmpkg, the lab).
//
// It is a package of its own rather than one of the two public functions
// calling the other: kmod (the running kernel's modules) and livepatch
// (a patch module's metadata) import neither each other nor anything in
// common but leaf helpers, and a one-line rule is no reason to tie them.
package modname

import "strings"

// Kernel is the kernel's spelling of a module name (KBUILD_MODNAME, the
// /sys/module and /sys/kernel/livepatch directories, delete_module(2)):
// '-' becomes '_'. The kernel treats the two as the same character in
// module names, and reports only '_'.
func Kernel(name string) string { return strings.ReplaceAll(name, "-", "_") }
