// SPDX-License-Identifier: Apache-2.0

// Package livepatch turns patch files into something the build can trust,
// and says early, in the patch author's terms, what will not work as a live
// patch.
//
//   - Parse and ParseFiles read unified diffs: git format-patch mails (also
//     several in one mbox), diff -Nupr output and quilt patches, with file
//     creation, deletion, renames and git modes. The strip level (-p) is
//     detected, or given with StripP. Malformed input fails with a
//     *ParseError naming the file, line and problem; paths that leave the
//     tree are refused (ErrUnsafePath).
//   - Apply applies patches in order to a tree in pure Go, like
//     "patch --fuzz=0": exact context, searched outward for moved hunks
//     (the offset is reported). Everything is staged in memory and written
//     through temp files and renames, so the tree is either fully patched
//     or untouched. DryRun checks without writing; Reverse undoes.
//   - Combine folds several patches into one cumulative patch (the replace
//     model), and Patch.Format writes any patch back as a git-style diff.
//   - Validate returns Findings: a stable rule id, a severity, the file and
//     line, and what to do. A small C-aware scanner tells whether each
//     changed line is in a function body, a header, a struct, data, an
//     __init function or a syscall definition, so ordinary changes inside
//     .c function bodies are never flagged.
//   - ModuleName, AutoLivepatchName, KernelModuleName and Module hold the
//     module naming rules of kpatch-build and auto_livepatch and the module
//     metadata (description safe for a C string, replace flag, license).
package livepatch
