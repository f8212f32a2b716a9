// SPDX-License-Identifier: Apache-2.0

package main

import (
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A file option's file that exists but cannot be read is not reported as
// "not found"; both errors wrap the cause.
func TestInputFileErrors(t *testing.T) {
	c := newCLI(t)
	missing := filepath.Join(t.TempDir(), "missing")
	dir := t.TempDir()
	for _, tc := range []struct {
		flag []string
		what string
	}{
		{[]string{"-d"}, "Description file"},
		{[]string{"--rpm", "--rpm-desc"}, "RPM description file"},
		{[]string{"--signing-key"}, "signing key file"},
		{[]string{"--rpm", "--rpm-sign-key"}, "RPM signing key file"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			err := c.run(append(append([]string{"-p", c.patch}, tc.flag...), missing)...)
			require.ErrorIs(t, err, fs.ErrNotExist)
			assert.Contains(t, c.err.String(), "ERROR: "+tc.what+" "+missing+" not found\n")

			err = c.run(append(append([]string{"-p", c.patch}, tc.flag...), dir)...)
			require.Error(t, err)
			assert.NotErrorIs(t, err, fs.ErrNotExist)
			assert.Contains(t, c.err.String(), "ERROR: "+tc.what+" "+dir+": read "+dir+": is a directory\n")
			assert.Nil(t, c.got, "nothing built")
		})
	}
}
