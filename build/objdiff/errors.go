// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"errors"
	"fmt"

	"github.com/klpkit/klpkit"
)

// ErrNoChanges reports that the two objects differ in no function: the
// patch changes nothing that needs live patching in this object. It is not
// a failure; callers usually skip the object. It is klpkit.ErrNoChanges,
// the value build and livepatch export too.
var ErrNoChanges = klpkit.ErrNoChanges

// ErrOnlyLineNumbers is the ErrNoChanges of an object whose builds differ
// only in source line numbers (a line added or removed above the code:
// __LINE__ in WARN and might_sleep calls, "file.c:LINE" strings, dynamic
// debug and UBSAN descriptors). errors.Is(err, ErrNoChanges) holds too.
var ErrOnlyLineNumbers error = noChangeReason("no changed functions: only line numbers moved")

// noChangeReason is an explanation of ErrNoChanges.
type noChangeReason string

func (e noChangeReason) Error() string        { return string(e) }
func (e noChangeReason) Is(target error) bool { return target == ErrNoChanges }

// ErrInternal marks a panic that Diff recovered: input no check foresaw
// reached code that assumed it could not happen. It is a bug in objdiff
// (report it with the two objects), never a verdict on the patch, and the
// fuzz targets fail on it.
var ErrInternal = errors.New("internal error on unexpected input (please report)")

// ErrUnsupportedChange is matched (errors.Is) by every UnsupportedError.
var ErrUnsupportedChange = errors.New("unsupported change")

// UnsupportedError is a change that cannot be live patched, with what the
// patch author can do about it.
type UnsupportedError struct {
	Object  string `json:"object"`  // object name from Options.Name
	Symbol  string `json:"symbol"`  // the symbol concerned, if any
	Section string `json:"section"` // the section concerned, if any
	Rule    string `json:"rule"`    // what is not allowed
	Hint    string `json:"hint"`    // what the patch author can do
}

func (e *UnsupportedError) Error() string {
	where := e.Symbol
	if where == "" {
		where = e.Section
	} else if e.Section != "" {
		where += " (" + e.Section + ")"
	}
	msg := fmt.Sprintf("%s: %s: %s", e.Object, where, e.Rule)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Is makes errors.Is(err, ErrUnsupportedChange) true.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupportedChange }

// UnsupportedErrors collects every refusal found in one object, so that the
// patch author sees them all at once.
type UnsupportedErrors []*UnsupportedError

func (es UnsupportedErrors) Error() string {
	if len(es) == 1 {
		return es[0].Error()
	}
	msg := fmt.Sprintf("%d unsupported changes:", len(es))
	for _, e := range es {
		msg += "\n\t" + e.Error()
	}
	return msg
}

// Unwrap lets errors.As find each UnsupportedError.
func (es UnsupportedErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}
