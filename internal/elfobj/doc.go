// SPDX-License-Identifier: Apache-2.0

// Package elfobj is a minimal reader, model and writer for x86_64 ELF
// relocatable objects (ET_REL), built on the types of debug/elf.
//
// The model keeps what object diffing and livepatch generation need:
// sections with their bytes, the symbol table indexed as the file has it
// (the null symbol is Symbols[0]), and RELA relocations decoded into
// pointers to symbols. A section may have several relocation sections (a
// finished livepatch module has .klp.rela.<obj>.<section> next to the
// normal .rela one): Section.Rela is the ordinary one, the others are in
// Section.MoreRelas. Sections the model does not understand stay opaque
// bytes. Write recomputes string tables, orders symbols locals-first,
// remaps section indices and emits .symtab_shndx when needed.
//
// Malformed input yields an error naming the problem; the reader never
// panics.
package elfobj
