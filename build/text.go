// SPDX-License-Identifier: Apache-2.0

package build

import (
	"encoding/json"
	"fmt"

	"github.com/klpkit/klpkit/internal/jsontext"
)

// JSON: stages as their names, errors as their messages, and empty lists
// as [] (never null), so that a consumer's schema has one shape.

var stages = [...]Stage{StageCheck, StagePatch, StageCompile, StageDiff, StageLink, StageOutput}

// MarshalText gives the stage's name.
func (s Stage) MarshalText() ([]byte, error) { return []byte(s), nil }

// UnmarshalText accepts the name of one of the pipeline's stages.
func (s *Stage) UnmarshalText(text []byte) error {
	for _, v := range stages {
		if string(v) == string(text) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("build: unknown stage %q", text)
}

// MarshalJSON writes empty lists as [].
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	p := plain(r)
	p.Objects, p.Warnings = jsontext.NonNil(p.Objects), jsontext.NonNil(p.Warnings)
	return json.Marshal(p)
}

// MarshalJSON writes empty lists as [].
func (o Object) MarshalJSON() ([]byte, error) {
	type plain Object
	p := plain(o)
	p.Changed, p.New = jsontext.NonNil(p.Changed), jsontext.NonNil(p.New)
	return json.Marshal(p)
}

// MarshalJSON writes empty lists as [].
func (p Plan) MarshalJSON() ([]byte, error) {
	type plain Plan
	q := plain(p)
	q.Changed, q.Objects = jsontext.NonNil(q.Changed), jsontext.NonNil(q.Objects)
	q.FullBuildHeaders, q.Warnings = jsontext.NonNil(q.FullBuildHeaders), jsontext.NonNil(q.Warnings)
	return json.Marshal(q)
}

// MarshalJSON writes empty lists as [].
func (e ExportVersionError) MarshalJSON() ([]byte, error) {
	type plain ExportVersionError
	p := plain(e)
	p.Changes = jsontext.NonNil(p.Changes)
	return json.Marshal(p)
}

// MarshalJSON writes Err as its message.
func (e ObjectError) MarshalJSON() ([]byte, error) {
	type plain ObjectError
	msg := ""
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return json.Marshal(struct {
		plain
		Err string `json:"err"`
	}{plain(e), msg})
}
