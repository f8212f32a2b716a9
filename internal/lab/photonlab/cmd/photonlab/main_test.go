// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab/photonlab"
)

func TestRunUsage(t *testing.T) {
	env := func(string) string { return "" }
	for _, args := range [][]string{nil, {"bogus"}, {"prepare", "extra"}, {"prepare", "--no-such-flag"}} {
		var out, errOut bytes.Buffer
		err := run(t.Context(), args, env, &out, &errOut)
		var u usageError
		require.True(t, errors.As(err, &u), "args %q: %v", args, err)
	}
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"help"}, env, &out, &out))
	require.Contains(t, out.String(), "photonlab prepare")
}

func TestInfoWithoutLab(t *testing.T) {
	dir := t.TempDir()
	env := func(k string) string {
		if k == "KLPKIT_LAB_DIR" {
			return dir
		}
		return ""
	}
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"info"}, env, &out, &errOut)
	require.ErrorIs(t, err, photonlab.ErrNotPrepared)
}

func TestPrepareWithoutDebianLab(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"prepare", "--dir", t.TempDir(), "--assets", "../../../../../testdata/photonlab"},
		func(string) string { return "" }, &out, &errOut)
	require.Error(t, err)
	require.Contains(t, err.Error(), "the Debian lab comes first")
}
