// SPDX-License-Identifier: Apache-2.0

// Package specprep reads an RPM spec and runs its %prep without rpmbuild,
// for the subset of spec syntax Photon's kernel specs use. ParseSpec
// resolves conditionals (%if, %ifarch, ...), expands macros and collects
// the spec's identity, numbered sources and patches and its %prep lines;
// Prep then unpacks the tarballs and applies the patches as rpmbuild -bp
// would, and ApplyConfigIncludes applies the .config edits the spec pulls
// in with %include. Anything outside the subset is a *SpecError naming the
// spec line (ErrUnsupportedSpec), never a guess. Every file is read and
// written without following links out of the source and build directories.
//
// The package knows nothing of Photon's repositories or kernels:
// photon/kernelsrc extracts the source RPM, picks the spec and its
// defines, and calls it:
//
//	spec, err := specprep.ParseSpec("linux.spec", data, specprep.SpecOptions{Dist: ".ph5", SourceDir: sources})
//	err = specprep.Prep(ctx, spec, specprep.PrepOptions{SourceDir: sources, BuildDir: build})
package specprep
