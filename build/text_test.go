// SPDX-License-Identifier: Apache-2.0

package build

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStageText(t *testing.T) {
	for _, s := range stages {
		b, err := json.Marshal(Event{Stage: s})
		require.NoError(t, err)
		var back Event
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, s, back.Stage)
	}
	var s Stage
	assert.Error(t, s.UnmarshalText([]byte("package")))
}

func TestResultJSONShape(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{Result{}, `{"module":"","name":"","objects":[],"warnings":[]}`},
		{Result{Objects: []Object{{Path: "fs/proc/cmdline.o", Target: "vmlinux"}}},
			`{"module":"","name":"","objects":[{"path":"fs/proc/cmdline.o","target":"vmlinux","changed":[],"new":[],"cached":false}],"warnings":[]}`},
		{&ObjectError{Object: "a.o", Stage: StageCompile, Err: errors.New("gcc failed")},
			`{"object":"a.o","stage":"compile","err":"gcc failed"}`},
		{&ExportVersionError{Object: "a.o"}, `{"object":"a.o","changes":[]}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.in)
		require.NoError(t, err)
		assert.JSONEq(t, c.want, string(b))
	}
}
