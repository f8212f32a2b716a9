// SPDX-License-Identifier: Apache-2.0

// Package photonsource turns a Photon OS kernel into a build.Source: its
// source, debuginfo and devel RPMs are fetched from a repository (package
// photon/kernelsrc: a mirror, a local directory or explicit files;
// checksummed and cached), its tree is prepared as rpmbuild -bp would, and
// then made ready with the kernel's own kbuild so that the tree has what
// package build needs (a prepared tree, kbuild's command files and
// Module.symvers). Its Capabilities tell build.Run the kernel's release and
// livepatch support before anything is fetched, and offer the full build
// and the modules' debug information a changed header may need.
//
// It lives apart from photon and build so that neither imports the other:
// photon knows nothing of the build pipeline, and build nothing of Photon's
// repositories.
//
//	src := &photonsource.Source{
//		Kernel: k,
//		Repo:   &kernelsrc.Repo{BaseURLs: []string{mirror}, CacheDir: cache},
//		Dir:    "/var/lib/klpkit/src",
//	}
//	res, err := build.Run(ctx, build.Options{Source: src, Patches: patches, OutputDir: out})
//
// The kernel's Module.symvers comes from its devel RPM (linux-devel,
// linux-aws-devel, ...: /usr/src/linux-headers-<uname -r>/Module.symvers),
// fetched from the same repositories and verified like the other packages;
// the tree is then only prepared (make modules_prepare) and objects are
// compiled as the pipeline needs them. Source.ModuleSymvers overrides the
// package. Only when the repositories have no devel RPM does the build
// step fall back to kpatch-build's: `make vmlinux modules` in the tree,
// once (a marker file records a finished build, so later runs reuse it),
// which takes hours for a distribution kernel on a few cores; Source.Warn
// is told so first.
//
// The kernel's compiler: with Source.Toolchain in auto mode (give it
// build.Options' Toolchain), a host compiler that is not the one vmlinux's
// .comment names makes both the tree's make and build.Run's compiles run
// in a root of the kernel's toolchain, provisioned by
// build/photontoolchain from the kernel's release's repositories
// (Capabilities.Toolchain); the compiler check is build.Run's, once.
package photonsource
