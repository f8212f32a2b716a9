// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
)

func TestBugLinesMoved(t *testing.T) {
	entry := func(line, flags byte) []byte {
		return []byte{0, 0, 0, 0, 0, 0, 0, 0, line, 0, flags, 0}
	}
	obj := func(data ...[]byte) *object {
		var all []byte
		for _, e := range data {
			all = append(all, e...)
		}
		sec := &elfobj.Section{Name: "__bug_table", Data: all}
		f := &elfobj.File{Sections: []*elfobj.Section{{}, sec}}
		return newObject("o", f)
	}
	cases := []struct {
		name      string
		orig, new *object
		want      bool
	}{
		{"line moved", obj(entry(10, 1), entry(20, 1)), obj(entry(11, 1), entry(21, 1)), true},
		{"nothing moved", obj(entry(10, 1)), obj(entry(10, 1)), false},
		{"flags changed", obj(entry(10, 1)), obj(entry(11, 3)), false},
		{"entry added", obj(entry(10, 1)), obj(entry(10, 1), entry(12, 1)), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := &differ{orig: c.orig, patched: c.new}
			require.Equal(t, c.want, d.bugLinesMoved())
		})
	}
}
