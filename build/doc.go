// Package build is the livepatch build pipeline: kernel source and patches
// in, a loadable livepatch module out. It compiles only the translation
// units a patch touches, diffs them (package build/objdiff), links the
// module (package build/klp) and reports progress through events.
package build
