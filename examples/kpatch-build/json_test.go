// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build"
)

// tick is a clock that advances a second at each reading.
func tick() func() time.Time {
	t := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func TestJSONResult(t *testing.T) {
	c := newCLI(t)
	c.a.now = tick()
	out := t.TempDir()
	require.NoError(t, c.run("-s", c.tree, "-o", out, "--json", c.patch))
	var got map[string]any
	dec := json.NewDecoder(strings.NewReader(c.out.String()))
	require.NoError(t, dec.Decode(&got), "stdout is one JSON object: %s", c.out.String())
	assert.False(t, dec.More(), "nothing after the object")
	objects, err := json.Marshal([]build.Object{{Path: "fs/proc/cmdline.o", Target: "vmlinux", Changed: []string{"cmdline_proc_show"}}})
	require.NoError(t, err)
	var wantObjects any
	require.NoError(t, json.Unmarshal(objects, &wantObjects))
	assert.Equal(t, map[string]any{
		"ok": true, "kernel": "6.1.0-56-amd64", "name": "livepatch-fix",
		"module":            filepath.Join(out, "livepatch-fix.ko"),
		"objects":           wantObjects,
		"changed_functions": []any{map[string]any{"name": "cmdline_proc_show", "object": "fs/proc/cmdline.o", "target": "vmlinux"}},
		"new_functions":     []any{},
		"findings":          []any{map[string]any{"severity": "warning", "message": "a warning"}},
		// One reading a stage start, one at the end: a second each.
		"timings": []any{map[string]any{"stage": "patch", "seconds": 1.0}, map[string]any{"stage": "link", "seconds": 1.0}},
		"seconds": 3.0,
	}, got)
	assert.Contains(t, c.err.String(), "Testing patch file(s)\n", "status lines go to stderr")
	assert.Contains(t, c.err.String(), "SUCCESS\n")
}

func TestJSONFailure(t *testing.T) {
	c := newCLI(t)
	c.fail = errors.New("boom")
	require.Error(t, c.run("-s", c.tree, "--json", c.patch))
	var got struct {
		OK      bool   `json:"ok"`
		Error   string `json:"error"`
		Kernel  string `json:"kernel"`
		Objects []any  `json:"objects"`
	}
	require.NoError(t, json.Unmarshal(c.out.Bytes(), &got), c.out.String())
	assert.False(t, got.OK)
	assert.Equal(t, "boom", got.Error)
	assert.Equal(t, "6.1.0-56-amd64", got.Kernel)
	assert.NotNil(t, got.Objects, "[] not null")
	assert.Contains(t, c.err.String(), "ERROR: boom.\n")

	// Refused before the kernel is known: still one object.
	require.Error(t, c.run("--json", "-s", c.tree))
	require.NoError(t, json.Unmarshal(c.out.Bytes(), &got), c.out.String())
	assert.False(t, got.OK)
	assert.Equal(t, "no patch file(s) specified", got.Error)

	// --json=true is --json too (pflag takes it), not plain text.
	require.Error(t, c.run("--json=true", "-s", c.tree))
	require.NoError(t, json.Unmarshal(c.out.Bytes(), &got), c.out.String())
	assert.Equal(t, "no patch file(s) specified", got.Error)
}

func TestJSONEvents(t *testing.T) {
	c := newCLI(t)
	c.a.now = tick()
	require.NoError(t, c.run("-s", c.tree, "--json-events", c.patch))
	assert.Contains(t, c.out.String(), "Testing patch file(s)\nBuilding patch module: livepatch-fix.ko\n", "kpatch-build's status lines stay on stdout")
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(c.err.String()))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "WARNING: ") {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "line %q", sc.Text())
		lines = append(lines, m)
	}
	require.Len(t, lines, 2)
	for i, e := range []build.Event{
		{Stage: build.StagePatch, Message: "testing patch file(s)", Total: 1},
		{Stage: build.StageLink, Message: "building patch module livepatch-fix.ko", Total: 1},
	} {
		data, err := json.Marshal(e)
		require.NoError(t, err)
		var want any
		require.NoError(t, json.Unmarshal(data, &want))
		assert.Equal(t, "build", lines[i]["source"])
		assert.Equal(t, want, lines[i]["event"], "the event as package build marshals it")
		ts, err := time.Parse(time.RFC3339Nano, lines[i]["time"].(string))
		require.NoError(t, err)
		assert.False(t, ts.IsZero())
	}
	assert.NotContains(t, c.err.String(), "[patch", "no text progress with --json-events")
}
