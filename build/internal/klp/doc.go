// SPDX-License-Identifier: Apache-2.0

// Package klp generates and links the livepatch module from diff results:
// klp_patch, klp_object and klp_func structures, the kbuild link, and the
// post-link rewrite of relocations to non-exported symbols into .klp.rela
// sections with .klp.sym symbols.
//
// The steps, as package build drives them:
//
//  1. Patch objects are prepared for the link: [AliasFunction] gives each
//     changed function (local in the patch object) a global alias the
//     generated klp_func table refers to, and [RenameUndefined] renames
//     every reference the livepatch core must resolve to its final name,
//     .klp.sym.<object>.<symbol>,<position> ([KlpSymbolName]), or, for a
//     module's reference to another module's symbol, a link-time name that
//     also names the patched module ([CrossKlpSymbolName]). Renaming
//     before the link keeps two targets' statics of the same name apart.
//  2. [Link] writes the [Module] source and a Kbuild file, hands the patch
//     objects to kbuild as prebuilt (<name>_shipped) objects and runs make
//     against the kernel tree or headers. modpost runs with
//     KBUILD_MODPOST_WARN=1, since the .klp.sym references are undefined
//     by design; [Finalize] then refuses any undefined symbol that is
//     neither a .klp.sym one nor exported by the kernel, the check modpost
//     would have made.
//  3. [Finalize] gives the .klp.sym symbols st_shndx SHN_LIVEPATCH and moves
//     every relocation against them out of allocated sections' relocation
//     sections into .klp.rela.<object>.<section> sections (SHF_ALLOC |
//     SHF_INFO_LINK | SHF_RELA_LIVEPATCH), <object> being the patched
//     module for a cross-module reference. The module is written once
//     afterwards; its symbol table is never reordered again. [CheckVermagic]
//     compares the vermagic with the target release.
//
// The generated source ([Module.Source]) builds against the headers of any
// kernel from 4.15 on: LINUX_VERSION_CODE picks the livepatch API before
// 5.1 (module_init registers, then enables the patch; module_exit
// unregisters it) or from 5.1 (klp_enable_patch alone). Atomic replace
// exists only from 5.1; a replace module compiled against older headers
// stops with an #error (package build refuses such builds earlier).
//
// [CheckArchPatching] refuses klp relocations in code the kernel patches
// while loading the module (alternative replacements and sites, paravirt
// sites): the livepatch core would write them too late, before 5.8 for
// every target and on any kernel for module targets.
//
// Positions come from a [SymbolTable]: vmlinux's ELF symbol table ranks
// same-named symbols by address, as kallsyms does, and a module's counts
// them in table order. A duplicated local name is told apart by the source
// file it comes from: the STT_FILE block of vmlinux whose local function
// and object names include all of the patched object's. A System.map has
// no file blocks, so there a duplicated name is refused with
// [ErrAmbiguousSymbol]: give the vmlinux instead.
//
// The package is internal to build, not public: its steps edit the patch
// objects and the module in place as build holds them, an *elfobj.File
// (klpkit's ELF editor, itself internal), and make sense only in the order
// build runs them. Public types would mean publishing that ELF editor as
// an API, or re-reading and re-writing the whole object for every step,
// for callers that do not exist: a module is made by build.Run. What a
// caller of build.Run needs from here, the errors it branches on, build
// re-exports (build.ErrArchKlpRelocation, build.ArchRelocationError, ...).
package klp
