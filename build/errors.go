// SPDX-License-Identifier: Apache-2.0

package build

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/klpkit/klpkit"
)

var (
	// ErrNotLivepatchable means the target kernel cannot take livepatches
	// (no CONFIG_LIVEPATCH, or an option that makes them unsafe).
	ErrNotLivepatchable = errors.New("kernel not livepatchable")
	// ErrCompilerMismatch means the compiler differs from the kernel's.
	ErrCompilerMismatch = errors.New("compiler differs from the kernel's")
	// ErrUnsupportedPatch means the patch changes something a livepatch
	// cannot (an assembly file, __init code, data layout, ...).
	ErrUnsupportedPatch = errors.New("unsupported change")
	// ErrNoChanges means the patches change no function of the kernel.
	// It is klpkit.ErrNoChanges, as objdiff's and livepatch's are.
	ErrNoChanges = klpkit.ErrNoChanges
	// ErrReplaceUnsupported means a replace module (Options.NoReplace
	// false) was asked for a kernel without atomic replace (before Linux
	// 5.1, such as Photon 3.0's 4.19): build with NoReplace. The words are
	// kpatch-build's.
	ErrReplaceUnsupported = errors.New("the kernel doesn't support klp replace")
	// ErrTreeNotBuilt means a patch changes a header and the tree is not
	// fully built, so not every object that includes it can be found (see
	// Options.PartialHeaderUsers and Capabilities.BuildAll).
	ErrTreeNotBuilt = errors.New("kernel tree not fully built")
	// ErrExportVersionChanged means a patched object changes the symbol
	// version (CONFIG_MODVERSIONS CRC) of one of its exports, like
	// kpatch-build's "Version disagreement for symbol" (see
	// ExportVersionError). It also matches ErrUnsupportedPatch.
	ErrExportVersionChanged = errors.New("version disagreement for exported symbol")
	// ErrTreeMismatch means the source tree does not build the target
	// kernel: its .config differs from the kernel's, its kbuild tree is for
	// another release, or an original object, compiled unpatched, gives
	// its exports symbol versions that differ from the kernel's
	// Module.symvers.
	ErrTreeMismatch = errors.New("the source tree does not match the kernel")
	// ErrModversions means the symbol versions of a patched object's
	// exports could not be computed (the tree lacks genksyms or
	// gendwarfksyms, or the tool failed), so Run cannot tell whether the
	// patch changes an exported ABI.
	ErrModversions = errors.New("cannot compute symbol versions")
	// ErrBadOptions means Run was not given what it needs (a Source,
	// patches, the target's vmlinux or System.map): the caller's mistake,
	// found before anything is built.
	ErrBadOptions = errors.New("incomplete build options")
	// ErrModuleNotFound means a target module's symbol table was needed
	// to tell which definition a reference means, and its .ko (or
	// .ko.debug) is not under Tree.ModulesDir.
	ErrModuleNotFound = errors.New("target module not found")
	// ErrInternal marks a panic recovered while reading an input
	// (debug/elf can panic on a corrupt vmlinux): a bug to report, not a
	// description of the input, and one the fuzz targets fail on.
	ErrInternal = errors.New("internal error on unexpected input (please report)")
)

// ObjectError says which translation unit failed and why.
type ObjectError struct {
	Object string `json:"object"` // tree-relative object path
	Stage  Stage  `json:"stage"`
	Err    error  `json:"err"`
}

func (e *ObjectError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Stage, e.Object, e.Err)
}

func (e *ObjectError) Unwrap() error { return e.Err }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
