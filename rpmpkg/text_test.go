// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
)

func TestEntryTypeText(t *testing.T) {
	for _, et := range entryTypes {
		b, err := json.Marshal(et)
		require.NoError(t, err)
		assert.Equal(t, `"`+et.String()+`"`, string(b))
		var back EntryType
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, et, back)
	}
	_, err := json.Marshal(EntryType(9))
	assert.Error(t, err)
	var et EntryType
	assert.Error(t, json.Unmarshal([]byte(`"device"`), &et))
}

func TestJSONShape(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{ExtractResult{Written: 3}, `{"info":null,"files":[],"written":3,"skipped":[]}`},
		{&ModuleError{Module: "x.ko", Err: errors.New("not a livepatch")}, `{"module":"x.ko","err":"not a livepatch"}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.in)
		require.NoError(t, err)
		assert.JSONEq(t, c.want, string(b))
	}
	b, err := json.Marshal(Info{})
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"requires", "provides", "conflicts", "obsoletes", "files"} {
		assert.Equal(t, []any{}, m[k], k)
	}
	assert.Contains(t, m, "scripts")
	assert.Contains(t, m["scripts"], "pre_un")
}

func TestExtractEventAsProgress(t *testing.T) {
	e := ExtractEvent{Name: "boot/vmlinux", Size: 10, Files: 2, Written: 30}
	p := e.progress()
	assert.Equal(t, klpkit.OpExtract, p.Op)
	assert.Equal(t, "boot/vmlinux", p.Subject)
	assert.Equal(t, int64(30), p.Done)
	assert.Equal(t, klpkit.UnitBytes, p.Unit)
	assert.Equal(t, e, p.Detail)
}
