// SPDX-License-Identifier: Apache-2.0

// Package rpmoracle is the reference reader that rpmpkg's tests compare
// rpmpkg's own RPM header decoder with: github.com/cavaliergopher/rpm.
//
// It lives in this package's test files only, and nothing imports this
// package. cavaliergopher/rpm imports golang.org/x/crypto/openpgp, which
// x/crypto v0.59.0 split into a deprecated module; if it were a test
// dependency of an imported package such as rpmpkg, `go mod tidy` in every
// program importing klpkit would add that module. rpmpkg's tests build this
// package's test binary and run it as a subprocess instead (see Dump).
package rpmoracle

import "encoding/json"

// DumpEnv, set to "1" in the environment of this package's test binary,
// makes it read one RPM package from stdin, write its Dump as JSON to
// stdout and exit, instead of running tests.
const DumpEnv = "KLPKIT_RPMORACLE_DUMP"

// Dump is what the oracle reads from a package.
type Dump struct {
	// Signature and Header map tag numbers to values, as the oracle decodes
	// the signature header and the main header.
	Signature map[int]Tag `json:"signature"`
	Header    map[int]Tag `json:"header"`
	// Info is rpmpkg.Info as the oracle's accessors fill it (digest fields
	// left zero), as JSON.
	Info json.RawMessage `json:"info,omitempty"`
	// Error is set when the oracle cannot read the package.
	Error string `json:"error,omitempty"`
}

// Tag is one decoded entry: Type is rpm's data type number; exactly one of
// Strings, Ints and Bytes is set, or none for a NULL entry.
type Tag struct {
	Type    int      `json:"type"`
	Strings []string `json:"strings,omitempty"`
	Ints    []int64  `json:"ints,omitempty"`
	Bytes   []byte   `json:"bytes,omitempty"`
}
