// SPDX-License-Identifier: Apache-2.0

package clijson

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json")

// TestResultSchema pins the --json object of kpatch-build and
// auto_livepatch, every field set: scripts read these names.
func TestResultSchema(t *testing.T) {
	r := NewResult()
	r.OK, r.Error, r.Check = false, "Building livepatch module failed: no functional changes found", true
	r.Plan = map[string]any{"objects": []string{"fs/proc/cmdline.o"}} // a build.Plan in the CLIs
	r.Kernel, r.Name = "6.1.138-2.ph5", "livepatch-fix"
	r.Module, r.RPM = "/out/livepatch-fix.ko", "/out/livepatch-fix-1-1.ph5.x86_64.rpm"
	r.Objects = []map[string]any{{"path": "fs/proc/cmdline.o"}} // []build.Object in the CLIs
	r.AddFunctions("fs/proc/cmdline.o", "vmlinux", []string{"cmdline_proc_show"}, []string{"klp_helper"})
	r.AddWarnings([]string{"hunk 1 of fs/proc/cmdline.c placed with offset 2"})
	r.Timings = []Timing{{Stage: "compile", Seconds: 12.5}}
	r.Seconds = 40.25
	var got bytes.Buffer
	require.NoError(t, r.Write(&got))
	const golden = "testdata/result.json"
	if *update {
		require.NoError(t, os.WriteFile(golden, got.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), got.String(), "go test -run TestResultSchema -update rewrites %s", golden)
}
