// SPDX-License-Identifier: Apache-2.0

package klpkit

// BuildUser is the unprivileged identity that runs the programs coming
// with a source package or a kernel tree when the caller is root: GNU
// patch and xz on a source RPM's patches and tarballs in %prep
// (specprep.PrepOptions, kernelsrc.PrepareOptions), make of the tree's
// Makefiles, the compiler kbuild calls, scripts/, objtool and genksyms in
// a build (build.Options, where build.BuildUser is this type and
// build.LookupBuildUser resolves a user's name). A package's content is
// not trusted; only loading a module needs root.
type BuildUser struct {
	UID, GID uint32
}
