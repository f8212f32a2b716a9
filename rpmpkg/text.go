// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"encoding/json"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/jsontext"
)

// JSON: entry types as their names, errors as their messages, and empty
// lists as [] (never null), so that a consumer's schema has one shape.

var entryTypes = [...]EntryType{TypeFile, TypeDir, TypeSymlink, TypeHardlink}

// MarshalText gives "file", "dir", "symlink" or "hardlink".
func (t EntryType) MarshalText() ([]byte, error) {
	return jsontext.MarshalEnum("rpmpkg", "entry type", t, entryTypes[:])
}

// UnmarshalText accepts "file", "dir", "symlink" or "hardlink".
func (t *EntryType) UnmarshalText(text []byte) error {
	v, err := jsontext.UnmarshalEnum("rpmpkg", "entry type", text, entryTypes[:])
	if err == nil {
		*t = v
	}
	return err
}

// MarshalJSON writes empty lists as [].
func (i Info) MarshalJSON() ([]byte, error) {
	type plain Info
	p := plain(i)
	p.Requires, p.Provides = jsontext.NonNil(p.Requires), jsontext.NonNil(p.Provides)
	p.Conflicts, p.Obsoletes = jsontext.NonNil(p.Conflicts), jsontext.NonNil(p.Obsoletes)
	p.Files = jsontext.NonNil(p.Files)
	return json.Marshal(p)
}

// MarshalJSON writes empty lists as [].
func (r ExtractResult) MarshalJSON() ([]byte, error) {
	type plain ExtractResult
	p := plain(r)
	p.Files, p.Skipped = jsontext.NonNil(p.Files), jsontext.NonNil(p.Skipped)
	return json.Marshal(p)
}

// MarshalJSON writes Err as its message.
func (e EntryError) MarshalJSON() ([]byte, error) {
	type plain EntryError
	return json.Marshal(struct {
		plain
		Err string `json:"err"`
	}{plain(e), jsontext.ErrText(e.Err)})
}

// MarshalJSON writes Err as its message.
func (e ModuleError) MarshalJSON() ([]byte, error) {
	type plain ModuleError
	return json.Marshal(struct {
		plain
		Err string `json:"err"`
	}{plain(e), jsontext.ErrText(e.Err)})
}

// progress is e as a report: bytes written so far, of a total Extract
// does not know in advance.
func (e ExtractEvent) progress() klpkit.Progress {
	return klpkit.Progress{Op: klpkit.OpExtract, Step: "entry", Subject: e.Name, Message: "extracted " + e.Name,
		Done: e.Written, Total: -1, Unit: klpkit.UnitBytes, Detail: e}
}
