// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"encoding/json"
	"fmt"

	"github.com/klpkit/klpkit/internal/jsontext"
)

// JSON: enums as their names, errors as their messages, and empty lists
// as [] (never null), so that a consumer's schema has one shape.

// MarshalText gives "warning" or "error"; the zero Severity (unset) gives "".
func (s Severity) MarshalText() ([]byte, error) {
	switch s {
	case 0:
		return []byte{}, nil
	case SeverityWarning, SeverityError:
		return []byte(s.String()), nil
	}
	return nil, fmt.Errorf("livepatch: severity %d has no name", int(s))
}

// UnmarshalText accepts "warning" or "error", or "" for the zero Severity.
func (s *Severity) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*s = 0
		return nil
	}
	for _, v := range [...]Severity{SeverityWarning, SeverityError} {
		if v.String() == string(text) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("livepatch: unknown severity %q (want warning or error)", text)
}

var ops = [...]Op{OpModify, OpCreate, OpDelete, OpRename, OpCopy}

// MarshalText gives the operation's name ("modify", "create", ...).
func (o Op) MarshalText() ([]byte, error) {
	return jsontext.MarshalEnum("livepatch", "file operation", o, ops[:])
}

// UnmarshalText accepts an operation's name.
func (o *Op) UnmarshalText(text []byte) error {
	v, err := jsontext.UnmarshalEnum("livepatch", "file operation", text, ops[:])
	if err == nil {
		*o = v
	}
	return err
}

// MarshalJSON writes empty lists as [].
func (r ApplyResult) MarshalJSON() ([]byte, error) {
	type plain ApplyResult
	p := plain(r)
	p.Files, p.Changed = jsontext.NonNil(p.Files), jsontext.NonNil(p.Changed)
	return json.Marshal(p)
}

// MarshalJSON writes an empty Hunks as [].
func (r FileResult) MarshalJSON() ([]byte, error) {
	type plain FileResult
	p := plain(r)
	p.Hunks = jsontext.NonNil(p.Hunks)
	return json.Marshal(p)
}

// MarshalJSON writes an empty Expected as [].
func (e HunkError) MarshalJSON() ([]byte, error) {
	type plain HunkError
	p := plain(e)
	p.Expected = jsontext.NonNil(p.Expected)
	return json.Marshal(p)
}

// MarshalJSON writes Err as its message.
func (e ParseError) MarshalJSON() ([]byte, error) {
	type plain ParseError
	return json.Marshal(struct {
		plain
		Err string `json:"err"`
	}{plain(e), jsontext.ErrText(e.Err)})
}

// MarshalJSON writes Err as its message.
func (e FileError) MarshalJSON() ([]byte, error) {
	type plain FileError
	return json.Marshal(struct {
		plain
		Err string `json:"err"`
	}{plain(e), jsontext.ErrText(e.Err)})
}
