// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"errors"
	"fmt"
)

// Sentinel errors callers can branch on with errors.Is.
var (
	// ErrInvalidSpec: the package description given to Write or Build is
	// incomplete or inconsistent (missing name, unsafe file name, ...).
	ErrInvalidSpec = errors.New("invalid package spec")
	// ErrNotRPM: the input does not start with an RPM lead.
	ErrNotRPM = errors.New("not an RPM package")
	// ErrMalformed: the RPM headers or the cpio payload are corrupt or truncated.
	ErrMalformed = errors.New("malformed RPM")
	// ErrDigestMismatch: a header or payload digest does not match the data.
	ErrDigestMismatch = errors.New("RPM digest mismatch")
	// ErrUnsupported: a payload compressor, format or digest algorithm this
	// package does not handle.
	ErrUnsupported = errors.New("unsupported RPM feature")
	// ErrUnsafePath: a payload entry would be written outside the destination
	// (absolute path, "..", a symlink pointing out, a path through a symlink).
	ErrUnsafePath = errors.New("unsafe path in RPM payload")
	// ErrTooLarge: an entry or the whole payload exceeds the configured limits.
	ErrTooLarge = errors.New("RPM payload too large")
)

// EntryError names the payload entry a failure is about.
type EntryError struct {
	Entry string `json:"entry"` // the entry's name as stored in the archive
	Err   error  `json:"err"`
}

func (e *EntryError) Error() string { return fmt.Sprintf("payload entry %q: %v", e.Entry, e.Err) }

func (e *EntryError) Unwrap() error { return e.Err }

func entryErr(entry string, sentinel error, format string, args ...any) error {
	return &EntryError{Entry: entry, Err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
}
