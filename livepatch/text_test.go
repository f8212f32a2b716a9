// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnumText(t *testing.T) {
	for _, s := range []Severity{SeverityWarning, SeverityError} {
		b, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, `"`+s.String()+`"`, string(b))
		var back Severity
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, s, back)
	}
	for _, o := range ops {
		b, err := json.Marshal(o)
		require.NoError(t, err)
		var back Op
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, o, back)
	}
	_, err := json.Marshal(Severity(7))
	assert.Error(t, err, "a severity without a name must not marshal as a number")
	_, err = json.Marshal(Op(42))
	assert.Error(t, err)
	var s Severity
	assert.Error(t, json.Unmarshal([]byte(`"fatal"`), &s))
	var o Op
	assert.Error(t, json.Unmarshal([]byte(`"move"`), &o))
}

func TestValidateNoFindingsIsEmptyList(t *testing.T) {
	patch := []byte("--- a/kernel/demo.c\n+++ b/kernel/demo.c\n@@ -1,3 +1,3 @@\n int demo(void)\n {\n-\treturn 1;\n+\treturn 2;\n")
	ps, err := Parse("demo.patch", patch, nil)
	require.NoError(t, err)
	fs, err := Validate(context.Background(), ps, nil)
	require.NoError(t, err)
	b, err := json.Marshal(fs)
	require.NoError(t, err)
	assert.Equal(t, "[]", string(b))
}

func TestErrorJSONHasMessages(t *testing.T) {
	b, err := json.Marshal(&FileError{Source: "p.patch", File: "a.c", Op: OpDelete, Err: errors.New("gone")})
	require.NoError(t, err)
	assert.JSONEq(t, `{"source":"p.patch","file":"a.c","op":"delete","err":"gone"}`, string(b))
	b, err = json.Marshal(ApplyResult{Files: []FileResult{{Source: "p.patch", Path: "a.c"}}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"files":[{"source":"p.patch","op":"modify","path":"a.c","hunks":[]}],"changed":[]}`, string(b))
}
