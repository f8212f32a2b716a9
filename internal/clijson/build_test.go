// SPDX-License-Identifier: Apache-2.0

package clijson

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A value shaped as build.Result marshals (this package cannot import
// build; the CLIs' tests run it on the real one).
type fakeObject struct {
	Path    string   `json:"path"`
	Target  string   `json:"target"`
	Changed []string `json:"changed"`
	New     []string `json:"new"`
	Cached  bool     `json:"cached"`
}

type fakeBuild struct {
	Module   string       `json:"module"`
	Name     string       `json:"name"`
	Objects  []fakeObject `json:"objects"`
	Warnings []string     `json:"warnings"`
}

func TestAddBuild(t *testing.T) {
	r := NewResult()
	require.NoError(t, r.AddBuild(&fakeBuild{Module: "/out/m.ko", Name: "m",
		Objects: []fakeObject{
			{Path: "fs/a.o", Target: "vmlinux", Changed: []string{"f"}, New: []string{"g"}, Cached: true},
			{Path: "drivers/b.o", Target: "b", Changed: []string{"h"}},
		},
		Warnings: []string{"w"}}))
	assert.Equal(t, "m", r.Name)
	assert.Equal(t, "/out/m.ko", r.Module)
	assert.Equal(t, []Function{{"f", "fs/a.o", "vmlinux"}, {"h", "drivers/b.o", "b"}}, r.ChangedFunctions)
	assert.Equal(t, []Function{{"g", "fs/a.o", "vmlinux"}}, r.NewFunctions)
	assert.Equal(t, []Finding{{"warning", "w"}}, r.Findings)
	b, err := json.Marshal(r.Objects)
	require.NoError(t, err)
	assert.JSONEq(t, `[{"path":"fs/a.o","target":"vmlinux","changed":["f"],"new":["g"],"cached":true},
		{"path":"drivers/b.o","target":"b","changed":["h"],"new":null,"cached":false}]`, string(b), "objects as build marshals them")

	empty := NewResult()
	require.NoError(t, empty.AddBuild(&fakeBuild{}))
	b, err = json.Marshal(empty.Objects)
	require.NoError(t, err)
	assert.Equal(t, "[]", string(b))

	assert.Error(t, NewResult().AddBuild(func() {}), "not marshallable")
}

func TestEnd(t *testing.T) {
	now := time.Unix(100, 0)
	clock := NewClock(func() time.Time { return now })
	now = now.Add(3 * time.Second)
	for _, runErr := range []error{nil, errors.New("build failed")} {
		r := NewResult()
		var out bytes.Buffer
		err := runErr
		r.End(clock, &err, &out)
		assert.Equal(t, runErr, err)
		var got Result
		require.NoError(t, json.Unmarshal(out.Bytes(), &got))
		assert.Equal(t, runErr == nil, got.OK)
		assert.Equal(t, 3.0, got.Seconds)
		if runErr != nil {
			assert.Equal(t, "build failed", got.Error)
		}
	}
	var err error
	NewResult().End(clock, &err, failWriter{})
	assert.ErrorIs(t, err, errWrite, "a failed write is the run's error")
}

var errWrite = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }
