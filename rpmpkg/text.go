// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"encoding/json"
	"fmt"

	"github.com/klpkit/klpkit"
)

// JSON: entry types as their names, errors as their messages, and empty
// lists as [] (never null), so that a consumer's schema has one shape.

var entryTypes = [...]EntryType{TypeFile, TypeDir, TypeSymlink, TypeHardlink}

// MarshalText gives "file", "dir", "symlink" or "hardlink".
func (t EntryType) MarshalText() ([]byte, error) {
	if t < 0 || int(t) >= len(entryTypes) {
		return nil, fmt.Errorf("rpmpkg: entry type %d has no name", int(t))
	}
	return []byte(t.String()), nil
}

// UnmarshalText accepts "file", "dir", "symlink" or "hardlink".
func (t *EntryType) UnmarshalText(text []byte) error {
	for _, v := range entryTypes {
		if v.String() == string(text) {
			*t = v
			return nil
		}
	}
	return fmt.Errorf("rpmpkg: unknown entry type %q", text)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// MarshalJSON writes empty lists as [].
func (i Info) MarshalJSON() ([]byte, error) {
	type plain Info
	p := plain(i)
	p.Requires, p.Provides = nonNil(p.Requires), nonNil(p.Provides)
	p.Conflicts, p.Obsoletes = nonNil(p.Conflicts), nonNil(p.Obsoletes)
	p.Files = nonNil(p.Files)
	return json.Marshal(p)
}

// MarshalJSON writes empty lists as [].
func (r ExtractResult) MarshalJSON() ([]byte, error) {
	type plain ExtractResult
	p := plain(r)
	p.Files, p.Skipped = nonNil(p.Files), nonNil(p.Skipped)
	return json.Marshal(p)
}

// MarshalJSON writes Err as its message.
func (e EntryError) MarshalJSON() ([]byte, error) {
	type plain EntryError
	return json.Marshal(struct {
		plain
		Err string `json:"err"`
	}{plain(e), errText(e.Err)})
}

// MarshalJSON writes Err as its message.
func (e ModuleError) MarshalJSON() ([]byte, error) {
	type plain ModuleError
	return json.Marshal(struct {
		plain
		Err string `json:"err"`
	}{plain(e), errText(e.Err)})
}

// progress is e as a report: bytes written so far, of a total Extract
// does not know in advance.
func (e ExtractEvent) progress() klpkit.Progress {
	return klpkit.Progress{Op: klpkit.OpExtract, Step: "entry", Subject: e.Name, Message: "extracted " + e.Name,
		Done: e.Written, Total: -1, Unit: klpkit.UnitBytes, Detail: e}
}
