// SPDX-License-Identifier: Apache-2.0

package clijson

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEmptyResultHasLists(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, NewResult().Write(&buf))
	var got map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	for _, k := range []string{"objects", "changed_functions", "new_functions", "findings", "timings"} {
		assert.Equal(t, []any{}, got[k], k)
	}
	assert.Equal(t, false, got["ok"])
	assert.NotContains(t, got, "plan")
}

func TestClockStages(t *testing.T) {
	at := time.Unix(0, 0)
	readings := []time.Duration{0, 2 * time.Second, 2 * time.Second, 5 * time.Second, 9 * time.Second}
	i := 0
	now := func() time.Time { d := readings[i]; i++; return at.Add(d) }
	c := NewClock(now) // 0
	c.Stage("check")   // 2: check starts
	c.Stage("check")   // same stage: no reading
	c.Stage("patch")   // 2: check ends
	c.Stage("patch")
	c.Stage("compile") // 5
	r := NewResult()
	c.Done(r) // 9
	assert.Equal(t, []Timing{{"check", 0}, {"patch", 3}, {"compile", 4}}, r.Timings)
	assert.Equal(t, 9.0, r.Seconds)
}

func TestEventsLines(t *testing.T) {
	var buf bytes.Buffer
	e := NewEvents(&buf, func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)) })
	e.Emit("build", map[string]int{"done": 1})
	e.Emit("fetch", "x")
	assert.Equal(t, `{"time":"2026-01-02T02:04:05Z","source":"build","event":{"done":1}}`+"\n"+
		`{"time":"2026-01-02T02:04:05Z","source":"fetch","event":"x"}`+"\n", buf.String())
	var none *Events
	none.Emit("build", 1) // a nil Events writes nothing
}
