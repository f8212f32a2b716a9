// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"fmt"
	"os"
)

// ReadPassphraseFile reads a signing key's passphrase from a file, by the
// one rule every klpkit tool follows: the first line, without its line
// ending ("\n" or "\r\n"); anything after it is ignored. That is how
// gpg --passphrase-file reads it (only its first line), so a file made for
// gpg works unchanged, and an editor's final newline is never part of the
// passphrase. Other whitespace is kept: it may belong to the passphrase.
// An empty file is an empty passphrase.
func ReadPassphraseFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("passphrase file: %w", err)
	}
	return FirstLine(data), nil
}

// FirstLine is ReadPassphraseFile's rule on data already read.
func FirstLine(data []byte) []byte {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}
