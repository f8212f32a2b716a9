// SPDX-License-Identifier: Apache-2.0

// Package build is the livepatch build pipeline: kernel source and patches
// in, a loadable livepatch module out.
//
//	res, err := build.Run(ctx, build.Options{
//		Source:  &build.Tree{Release: "6.1.0-56-amd64", Dir: src, KbuildDir: headers, Vmlinux: vmlinux},
//		Patches:   []string{"fix.patch"},
//		OutputDir: out,
//	})
//
// [Check] takes the same options and runs the check and patch stages
// only, for dry runs: it returns a [Plan] (the module's name and path, the
// objects to compile) or the error Run would return before compiling.
//
// [Run] goes through these stages, reporting an [Event] as each starts and
// advances, and stopping with ctx.Err() when ctx is cancelled:
//
//   - check: the Source's own livepatchability check when it has one (a
//     Photon kernel), CONFIG_LIVEPATCH and the options that make livepatch
//     builds unsafe (GCC latent-entropy and randstruct plugins, IBT, split
//     debug info), the tree's config and release against the target's, and
//     the compiler against the one in vmlinux's .comment (or
//     CONFIG_CC_VERSION_TEXT) unless skipped.
//   - patch: the patches are parsed and validated (package livepatch) and
//     applied to an overlay, a directory holding only the files they
//     change. The source tree is never written, so an interrupted build
//     cannot leave it patched, and several builds can share one tree.
//   - compile: the translation units the patches touch (a changed .c file;
//     for a changed header, every object whose kbuild .cmd file lists it,
//     which needs a fully built tree: a Source that can build in full
//     (Capabilities.BuildAll) is built in full once, a plain tree is
//     refused with ErrTreeNotBuilt unless Options.PartialHeaderUsers
//     accepts the objects built so far)
//     are compiled twice by running kbuild's recorded compiler command and
//     objtool directly, with -ffunction-sections -fdata-sections added:
//     kbuild's own start-up costs more than one compile. The patched side
//     reads its source and patched headers from the overlay, with
//     -fmacro-prefix-map so __FILE__ strings stay the same. When an object
//     has no .cmd file yet, `make <object>` runs once in the tree to record
//     it. Original objects are cached under Options.CacheDir, keyed by
//     kernel, config, compiler, command line and the contents of every
//     recorded dependency; entries are renamed into place, so an
//     interrupted run never leaves a partial one. An object belongs to the
//     module kbuild compiled it for (-DMODULE and KBUILD_MODNAME on its
//     command line), else to vmlinux. On CONFIG_MODVERSIONS kernels the
//     symbol versions (CRCs) of an object's exports are computed for both
//     sides as kbuild does (genksyms on the preprocessed source, beside the
//     compile; gendwarfksyms on the object for CONFIG_GENDWARFKSYMS); the
//     original's must equal Module.symvers ([ErrTreeMismatch]), and a
//     patch that changes one is refused with an *[ExportVersionError]
//     ([ErrExportVersionChanged]), before the diff.
//   - diff: package build/objdiff compares each pair and extracts the
//     changed and new functions; changes a livepatch cannot carry are
//     refused with errors matching [ErrUnsupportedPatch].
//   - link: package build/internal/klp generates the klp_patch registration, links
//     it with the patch objects through kbuild against KbuildDir (the
//     installed headers are enough) and rewrites references to symbols
//     vmlinux does not export into .klp.rela sections (another module's
//     export too, so that the patch module does not depend on it).
//   - output: the module is written to OutputDir atomically, and with
//     Options.DebugDir the objects, patched sources, generated module
//     source and a log are exported.
//
// The module is reproducible: the same patches for the same kernel give
// the same bytes wherever the tree and the work directory are (both are
// mapped out of the debug information), and the same RPM with a fixed
// rpmpkg.Package.BuildTime (SOURCE_DATE_EPOCH). A module signed with an
// ECDSA key is the exception: those signatures are randomized (RSA's
// are not).
//
// Errors wrap sentinels ([ErrNotLivepatchable], [ErrCompilerMismatch],
// [ErrUnsupportedPatch], [ErrNoChanges]); failures tied to one translation
// unit are *[ObjectError]s naming it and the stage.
package build
