// SPDX-License-Identifier: Apache-2.0

package build

import "github.com/klpkit/klpkit/build/internal/klp"

// The link stage's errors (package build/internal/klp), which Run returns
// wrapped: the same values and type, named here so that callers can branch
// on them with errors.Is and errors.As.
var (
	// ErrArchKlpRelocation: a klp relocation in code the kernel patches
	// while loading the module (alternatives, paravirt sites), which the
	// livepatch core would write too late (ArchRelocationError says where).
	ErrArchKlpRelocation = klp.ErrArchKlpRelocation
	// ErrAmbiguousSymbol: a name the patch refers to occurs more than once
	// in the target and nothing tells the occurrences apart (a System.map
	// has no file blocks: give the vmlinux).
	ErrAmbiguousSymbol = klp.ErrAmbiguousSymbol
	// ErrSymbolNotFound: a name the patch refers to is not in the target's
	// symbol table.
	ErrSymbolNotFound = klp.ErrSymbolNotFound
	// ErrUndefinedSymbols: the linked module still references symbols
	// that neither the kernel's exports nor the livepatch core resolve.
	ErrUndefinedSymbols = klp.ErrUndefinedSymbols
	// ErrBadKlpSymbol: a livepatch symbol's object or symbol name is too
	// long or malformed for the kernel.
	ErrBadKlpSymbol = klp.ErrBadKlpSymbol
	// ErrVermagic: the module was built for another kernel.
	ErrVermagic = klp.ErrVermagic
)

// ArchRelocationError is a klp relocation that would be written after the
// kernel patched the code it belongs to; it matches ErrArchKlpRelocation.
type ArchRelocationError = klp.ArchRelocationError
