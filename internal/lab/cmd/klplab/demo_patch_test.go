// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
)

func TestPatchDemoNeedsSourceTree(t *testing.T) {
	var out bytes.Buffer
	d := &patchDemo{lab: &lab.Lab{KernelRelease: "6.1.0-56-amd64"}, patch: "../../../../testdata/patches/cmdline-string.patch", stdout: &out}
	require.ErrorContains(t, d.run(t.Context()), "the lab has no source tree: run `make lab`")
}
