// SPDX-License-Identifier: Apache-2.0

package photon

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// modelDeps are the only packages outside the standard library that the
// kernel model may import: itself, klpkit's JSON helpers and its kernel
// version facts (internal/kver: which Linux brought atomic replace), which
// import only the standard library (their own imports are in the list
// checked below, so they cannot grow either).
var modelDeps = []string{
	"github.com/klpkit/klpkit/internal/jsontext",
	"github.com/klpkit/klpkit/internal/kver",
	"github.com/klpkit/klpkit/photon",
}

// TestModelImportsOnlyStdlib pins that a program parsing uname strings
// pulls in nothing else: repositories, downloads, RPMs and %prep live in
// photon/kernelsrc.
func TestModelImportsOnlyStdlib(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	require.NoError(t, err, "the go command, to list photon's imports")
	out, err := exec.Command(goCmd, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}",
		"github.com/klpkit/klpkit/photon").Output()
	require.NoError(t, err, "go list -deps: %s", out)
	var extra []string
	for _, p := range strings.Fields(string(out)) {
		if !slices.Contains(modelDeps, p) {
			extra = append(extra, p)
		}
	}
	require.Empty(t, extra, "photon imports packages outside the standard library; move the code needing them to a subpackage")
	require.Contains(t, strings.Fields(string(out)), "github.com/klpkit/klpkit/photon", "go list listed nothing")
}
