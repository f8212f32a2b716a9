// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPrefixMapArgs(t *testing.T) {
	const flag = "KCFLAGS=-fdebug-prefix-map=/tmp/w/module=."
	for _, tc := range []struct {
		name     string
		args     []string
		env      []string
		dir      string
		want     []string
		wantSame bool
	}{
		{name: "added", args: []string{"CC=gcc-12"}, dir: "/tmp/w/module", want: []string{"CC=gcc-12", flag}},
		{name: "trailing slash", dir: "/tmp/w/module/", want: []string{flag}},
		{name: "after the caller's KCFLAGS", args: []string{"KCFLAGS=-O2 -g", "CC=gcc"}, dir: "/tmp/w/module",
			want: []string{"KCFLAGS=-O2 -g -fdebug-prefix-map=/tmp/w/module=.", "CC=gcc"}},
		{name: "the last of several KCFLAGS, which make takes", args: []string{"KCFLAGS=-a", "KCFLAGS=-b"}, dir: "/tmp/w/module",
			want: []string{"KCFLAGS=-a", "KCFLAGS=-b -fdebug-prefix-map=/tmp/w/module=."}},
		{name: "blank caller KCFLAGS", args: []string{"KCFLAGS= "}, dir: "/tmp/w/module", want: []string{flag}},
		{name: "inherited KCFLAGS kept", env: []string{"PATH=/bin", "KCFLAGS=-Wno-x"}, dir: "/tmp/w/module",
			want: []string{"KCFLAGS=-Wno-x -fdebug-prefix-map=/tmp/w/module=."}},
		{name: "command line before environment", args: []string{"KCFLAGS=-a"}, env: []string{"KCFLAGS=-e"}, dir: "/tmp/w/module",
			want: []string{"KCFLAGS=-a -fdebug-prefix-map=/tmp/w/module=."}},
		{name: "dir with '=' cannot be mapped", args: []string{"CC=gcc"}, dir: "/tmp/a=b/module", wantSame: true},
		{name: "dir with a blank cannot be mapped", args: []string{"CC=gcc"}, dir: "/tmp/a b/module", wantSame: true},
		{name: "no dir", args: []string{"CC=gcc"}, wantSame: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := append([]string(nil), tc.args...)
			got := prefixMapArgs(tc.args, tc.env, tc.dir)
			if tc.wantSame {
				assert.Equal(t, orig, got)
			} else {
				assert.Equal(t, tc.want, got)
			}
			assert.Equal(t, orig, tc.args, "the caller's slice is not modified")
		})
	}
}
