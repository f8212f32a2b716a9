// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAddedLines(t *testing.T) {
	cases := []struct {
		name          string
		before, after string
		want          []int
	}{
		{"same", "a\nb\n", "a\nb\n", nil},
		{"insert", "a\nb\nc\n", "a\nx\nb\nc\n", []int{2}},
		{"replace", "a\nb\nc\n", "a\nB\nc\n", []int{2}},
		{"delete only", "a\nb\nc\n", "a\nc\n", nil},
		{"new file", "", "x\ny\n", []int{1, 2}},
		{"append without newline", "a\n", "a\nb", []int{2}},
		{"two places", "a\nb\nc\nd\n", "z\na\nb\nc\nq\nd\n", []int{1, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, AddedLines([]byte(c.before), []byte(c.after)))
		})
	}
}

func TestDeletedLines(t *testing.T) {
	cases := []struct {
		name          string
		before, after string
		want          []int
	}{
		{"same", "a\nb\n", "a\nb\n", nil},
		{"insert", "a\nb\nc\n", "a\nx\nb\nc\n", nil},
		{"replace", "a\nb\nc\n", "a\nB\nc\n", []int{2}},
		{"delete only", "a\nb\nc\n", "a\nc\n", []int{2}},
		{"file removed", "x\ny\n", "", []int{1, 2}},
		{"two places", "a\nb\nc\nd\ne\n", "a\nc\nd\n", []int{2, 5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.want, DeletedLines([]byte(c.before), []byte(c.after)))
		})
	}
}
