// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrefixMapArgs(t *testing.T) {
	const flag = "KCFLAGS=-fdebug-prefix-map=/tmp/w/module=."
	for _, tc := range []struct {
		name     string
		args     []string
		env      []string
		dirs     []string
		want     []string
		wantSame bool
	}{
		{name: "added", args: []string{"CC=gcc-12"}, dirs: []string{"/tmp/w/module"}, want: []string{"CC=gcc-12", flag}},
		{name: "trailing slash", dirs: []string{"/tmp/w/module/"}, want: []string{flag}},
		{name: "several, in order", dirs: []string{"/src/linux", "", "/tmp/w/module", "/src/linux/"},
			want: []string{"KCFLAGS=-fdebug-prefix-map=/src/linux=. -fdebug-prefix-map=/tmp/w/module=."}},
		{name: "after the caller's KCFLAGS", args: []string{"KCFLAGS=-O2 -g", "CC=gcc"}, dirs: []string{"/tmp/w/module"},
			want: []string{"KCFLAGS=-O2 -g -fdebug-prefix-map=/tmp/w/module=.", "CC=gcc"}},
		{name: "the last of several KCFLAGS, which make takes", args: []string{"KCFLAGS=-a", "KCFLAGS=-b"}, dirs: []string{"/tmp/w/module"},
			want: []string{"KCFLAGS=-a", "KCFLAGS=-b -fdebug-prefix-map=/tmp/w/module=."}},
		{name: "blank caller KCFLAGS", args: []string{"KCFLAGS= "}, dirs: []string{"/tmp/w/module"}, want: []string{flag}},
		{name: "inherited KCFLAGS kept", env: []string{"PATH=/bin", "KCFLAGS=-Wno-x"}, dirs: []string{"/tmp/w/module"},
			want: []string{"KCFLAGS=-Wno-x -fdebug-prefix-map=/tmp/w/module=."}},
		{name: "command line before environment", args: []string{"KCFLAGS=-a"}, env: []string{"KCFLAGS=-e"}, dirs: []string{"/tmp/w/module"},
			want: []string{"KCFLAGS=-a -fdebug-prefix-map=/tmp/w/module=."}},
		{name: "a dir with '=' cannot be mapped", args: []string{"CC=gcc"}, dirs: []string{"/tmp/a=b/module", "/tmp/w/module"},
			want: []string{"CC=gcc", flag}},
		{name: "a dir with a blank cannot be mapped", args: []string{"CC=gcc"}, dirs: []string{"/tmp/a b/module"}, wantSame: true},
		{name: "the root is never mapped", args: []string{"CC=gcc"}, dirs: []string{"/"}, wantSame: true},
		{name: "no dir", args: []string{"CC=gcc"}, wantSame: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := append([]string(nil), tc.args...)
			got := prefixMapArgs(tc.args, tc.env, tc.dirs...)
			if tc.wantSame {
				assert.Equal(t, orig, got)
			} else {
				assert.Equal(t, tc.want, got)
			}
			assert.Equal(t, orig, tc.args, "the caller's slice is not modified")
		})
	}
}

// TestPrefixMapArgsLinks: a dir reached through a link is mapped in both
// spellings, since the compiler may record either.
func TestPrefixMapArgsLinks(t *testing.T) {
	real := filepath.Join(t.TempDir(), "headers")
	require.NoError(t, os.Mkdir(real, 0o755))
	real, err := filepath.EvalSymlinks(real)
	require.NoError(t, err)
	link := filepath.Join(t.TempDir(), "build")
	require.NoError(t, os.Symlink(real, link))
	assert.Equal(t, []string{"KCFLAGS=-fdebug-prefix-map=" + link + "=. -fdebug-prefix-map=" + real + "=."},
		prefixMapArgs(nil, nil, link))
}
