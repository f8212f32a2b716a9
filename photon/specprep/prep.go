// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"context"
	"errors"

	"github.com/klpkit/klpkit"
)

// PrepareStep names a stage of preparing a kernel tree, for progress
// events. Prep and ApplyConfigIncludes report StepUnpack, StepPatch and
// StepConfig; the other stages are those of kernelsrc.Prepare, which
// reports its whole run with the same event type.
type PrepareStep string

// The stages of kernelsrc.Prepare, in order.
const (
	StepExtract  PrepareStep = "extract"  // source RPM payload
	StepSpec     PrepareStep = "spec"     // reading the spec
	StepUnpack   PrepareStep = "unpack"   // a tarball (Detail: file)
	StepPatch    PrepareStep = "patch"    // a Photon patch (Detail: file)
	StepConfig   PrepareStep = "config"   // .config and CONFIG_LOCALVERSION
	StepVmlinux  PrepareStep = "vmlinux"  // vmlinux from the debuginfo RPM
	StepCompiler PrepareStep = "compiler" // gcc check
	StepDone     PrepareStep = "done"
)

// PrepareEvent reports progress of preparing a kernel tree. As a
// klpkit.Progress it is the Detail of a report with Op klpkit.OpPrepare.
type PrepareEvent struct {
	Step   PrepareStep `json:"step"`
	Detail string      `json:"detail"`
}

// Progress is e as a report of klpkit.OpPrepare.
func (e PrepareEvent) Progress() klpkit.Progress {
	return klpkit.Progress{Op: klpkit.OpPrepare, Step: string(e.Step), Message: e.Detail, Detail: e}
}

// PrepOptions says where a %prep runs and with which tools.
type PrepOptions struct {
	// SourceDir holds the source RPM's files (rpmbuild's SOURCES); the
	// spec's Sources and Patches are read from it.
	SourceDir string
	// BuildDir is rpmbuild's BUILD: %prep starts there, and every path it
	// writes must stay under it (or under SourceDir).
	BuildDir string
	// PatchCommand is GNU patch; "" means "patch" from PATH.
	PatchCommand string
	// XZCommand, when set, decompresses .tar.xz sources (about ten times
	// faster than the pure-Go decoder on a kernel tarball); the archive is
	// always checked and written by this package.
	XZCommand string
	// Progress, if set, receives a PrepareEvent report as each tarball is
	// unpacked and each patch applied, on Prep's goroutine.
	Progress klpkit.ProgressFunc
	// BuildUser and BuildAsRoot say who runs GNU patch and the external
	// xz, which read the source RPM's patches and tarballs, when the
	// caller is root, as build.Options' fields of the same names do for
	// a build. nil is BuildDir's owner when that is not root, else
	// nobody. The user gets BuildDir's directories, not its files (whose
	// owners and modes stay as they are), and must be able to run the two
	// programs. BuildAsRoot runs them as root.
	BuildUser   *klpkit.BuildUser
	BuildAsRoot bool
}

// Prep runs spec's %prep as rpmbuild -bp would, for the subset of
// commands Photon's kernel specs use: %setup, %patch, %autopatch, Photon
// 3.0's ApplyPatch helper, and cd, pushd, popd, cp, sed, mkdir and
// make mrproper inside the build and source directories. Anything else is
// a *SpecError (ErrUnsupportedSpec); a patch that does not apply is a
// *PatchError. Files are read and written without following links out of
// the two directories. As root, patch and xz run as a build user
// (PrepOptions.BuildUser).
func Prep(ctx context.Context, spec *Spec, opts PrepOptions) error {
	if spec == nil || opts.SourceDir == "" || opts.BuildDir == "" {
		return errors.New("photon: Prep: spec, PrepOptions.SourceDir and PrepOptions.BuildDir are required")
	}
	patch := opts.PatchCommand
	if patch == "" {
		patch = "patch"
	}
	as, err := prepUser(&opts)
	if err != nil {
		return err
	}
	r := &prepRunner{ctx: ctx, spec: spec, sourceDir: opts.SourceDir, buildDir: opts.BuildDir,
		patchCmd: patch, xzCmd: opts.XZCommand, progress: opts.Progress, as: as}
	return r.run()
}
