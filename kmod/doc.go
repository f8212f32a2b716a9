// Package kmod loads, unloads, installs and inspects livepatch kernel
// modules at run time, through the module syscalls and sysfs, as the kpatch
// tool does, in a form that fleet agents can embed.
package kmod
