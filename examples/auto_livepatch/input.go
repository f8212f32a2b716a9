// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// inputError is a file named on the command line that could not be read.
// A missing file keeps auto_livepatch.sh's "<what> <path> not found"; any
// other failure (permission, a directory, I/O) says what it was. Both wrap
// the cause, for errors.Is(err, fs.ErrNotExist) and the like.
type inputError struct {
	what, path string
	err        error
}

func (e *inputError) Error() string {
	if errors.Is(e.err, fs.ErrNotExist) {
		return fmt.Sprintf("%s %s not found", e.what, e.path)
	}
	return fmt.Sprintf("%s %s: %v", e.what, e.path, e.err)
}

func (e *inputError) Unwrap() error { return e.err }

// readInput reads the file path, what describing it in the error.
func readInput(what, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &inputError{what: what, path: path, err: err}
	}
	return data, nil
}
