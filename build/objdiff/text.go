// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"encoding/json"

	"github.com/klpkit/klpkit/internal/jsontext"
)

// JSON: ELF enums as their names (STB_LOCAL, STT_FUNC, R_X86_64_PC32), as
// readelf prints them, and empty lists as [] (never null), so that a
// consumer's schema has one shape.

// MarshalJSON writes empty lists as [].
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	p := plain(r)
	p.Changed, p.New, p.Included = jsontext.NonNil(p.Changed), jsontext.NonNil(p.New), jsontext.NonNil(p.Included)
	p.Relocations, p.Warnings = jsontext.NonNil(p.Relocations), jsontext.NonNil(p.Warnings)
	return json.Marshal(p)
}

// MarshalJSON writes Bind as its name.
func (f Function) MarshalJSON() ([]byte, error) {
	type plain Function
	return json.Marshal(struct {
		plain
		Bind string `json:"bind"`
	}{plain(f), f.Bind.String()})
}

// MarshalJSON writes Type and Bind as their names.
func (s Symbol) MarshalJSON() ([]byte, error) {
	type plain Symbol
	return json.Marshal(struct {
		plain
		Type string `json:"type"`
		Bind string `json:"bind"`
	}{plain(s), s.Type.String(), s.Bind.String()})
}

// MarshalJSON writes Type, Bind and SymType as their names.
func (r Relocation) MarshalJSON() ([]byte, error) {
	type plain Relocation
	return json.Marshal(struct {
		plain
		Type    string `json:"type"`
		Bind    string `json:"bind"`
		SymType string `json:"sym_type"`
	}{plain(r), r.Type.String(), r.Bind.String(), r.SymType.String()})
}
