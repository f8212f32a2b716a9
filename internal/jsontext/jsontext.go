// SPDX-License-Identifier: Apache-2.0

// Package jsontext holds the few rules every public package's JSON follows:
// empty lists as [] (never null), errors as their messages, and integer
// enums as their names. One copy here, so the packages cannot drift apart.
package jsontext

import "fmt"

// NonNil returns s, or an empty list for nil, so it marshals as [].
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ErrText is an error's message ("" for nil): an error value itself
// marshals as {}.
func ErrText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Enum is an integer enum with names.
type Enum interface {
	~int
	String() string
}

// MarshalEnum gives v's name if v is one of all; pkg and name word the
// error ("kmod", "compression").
func MarshalEnum[T Enum](pkg, name string, v T, all []T) ([]byte, error) {
	for _, a := range all {
		if a == v {
			return []byte(v.String()), nil
		}
	}
	return nil, fmt.Errorf("%s: %s %d has no name", pkg, name, int(v))
}

// UnmarshalEnum finds the member of all named text.
func UnmarshalEnum[T Enum](pkg, name string, text []byte, all []T) (T, error) {
	for _, a := range all {
		if a.String() == string(text) {
			return a, nil
		}
	}
	var zero T
	return zero, fmt.Errorf("%s: unknown %s %q", pkg, name, text)
}
