// SPDX-License-Identifier: Apache-2.0

// Package objdiff compares the original and patched object of one kernel
// translation unit at the ELF level, decides which functions changed, and
// emits a relocatable object holding exactly those functions and what they
// need, with every other reference left for the linker stage.
//
// The objects must be built with -ffunction-sections -fdata-sections, so
// that every function and data object has a section of its own. [Diff]
// works in steps, one file each:
//
//   - normalize.go: find the symbol each section exists for, link
//     .cold/.part children to their parents, note which functions start
//     with a __fentry__ call, and turn "section + offset" relocations into
//     "symbol + offset" (PC-relative addends corrected by decoding the
//     instruction, decode.go).
//   - correlate.go: pair sections and symbols of the two objects by name,
//     with compiler numbering as a wildcard (foo.isra.3 pairs foo.isra.7),
//     and function-scope statics by the functions that use them.
//   - compare.go, line.go: mark sections and symbols SAME, CHANGED or NEW;
//     code whose only difference is a __LINE__ passed to WARN or
//     might_sleep helpers is SAME.
//   - include.go, special.go, fixup.go, ignore.go: choose what the patch
//     object holds, rebuild the x86 special sections entry by entry, and
//     refuse what cannot be live patched ([UnsupportedError]).
//   - output.go: build the patch object and the [Result].
//
// No change at all is [ErrNoChanges]. A change that only alters what
// __init/__exit code references is refused ([RuleInitChanged]) when it is
// the object's only change, and a warning otherwise: a livepatch cannot
// re-run boot-time code. Unsupported changes are returned
// together as [UnsupportedErrors]; each names the object, the symbol or
// section, the rule, and what the patch author can do.
//
// Result.Relocations lists what the patch object leaves undefined; the
// build/internal/klp stage turns those with Livepatch set into .klp.rela sections
// and resolves symbol positions against the parent's symbol table.
package objdiff
