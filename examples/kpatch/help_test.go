// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHelpLikeKpatch: help, -h, --help and no arguments print the usage on
// stderr and exit 1, as kpatch does (README, "Help, exit status and JSON
// output").
func TestHelpLikeKpatch(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {}} {
		var out, errb bytes.Buffer
		require.Error(t, run(args, &out, &errb), "%q exits 1", args)
		assert.Contains(t, errb.String(), "usage: kpatch <command>", "%q", args)
		assert.Empty(t, out.String(), "%q", args)
	}
}
