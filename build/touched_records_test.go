// SPDX-License-Identifier: Apache-2.0

package build

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kbuild's records give a header's users only when every one that names
// it is read: a record that cannot be parsed is an error, absolute
// dependencies (an O= build's) count, modules' generated .mod.c do not.
func TestHeaderUsersRecords(t *testing.T) {
	const h = "include/linux/x.h"
	cmd := func(obj, src string, deps ...string) string {
		s := "cmd_" + obj + " := gcc -c -o " + obj + " " + src + "\nsource_" + obj + " := " + src + "\ndeps_" + obj + " := \\\n"
		for _, d := range deps {
			s += "  " + d + " \\\n"
		}
		return s + "\n"
	}
	src := t.TempDir() // an O= build's sources, behind its source link
	for _, c := range []struct {
		name  string
		files map[string]string
		link  bool
		users []string
		err   string
	}{
		{name: "relative",
			files: map[string]string{"fs/.a.o.cmd": cmd("fs/a.o", "fs/a.c", h)},
			users: []string{"fs/a.o"}},
		{name: "absolute under the tree",
			files: map[string]string{"fs/.a.o.cmd": cmd("fs/a.o", "{tree}/fs/a.c", "{tree}/"+h)},
			users: []string{"fs/a.o"}},
		{name: "an O= build's sources",
			files: map[string]string{"fs/.a.o.cmd": cmd("fs/a.o", src+"/fs/a.c", src+"/"+h)}, link: true,
			users: []string{"fs/a.o"}},
		{name: "a module's .mod.c is no target",
			files: map[string]string{"fs/.a.o.cmd": cmd("fs/a.o", "fs/a.c", h), "fs/.m.mod.o.cmd": cmd("fs/m.mod.o", "fs/m.mod.c", h)},
			users: []string{"fs/a.o"}},
		{name: "a record that cannot be parsed",
			files: map[string]string{"fs/.a.o.cmd": cmd("fs/a.o", "fs/a.c", h), "fs/.b.o.cmd": "deps_fs/b.o := \\\n  " + h + " \\\n"},
			err:   "fs/.b.o.cmd names a changed header"},
		{name: "a record of no interest may be anything",
			files: map[string]string{"fs/.a.o.cmd": cmd("fs/a.o", "fs/a.c", h), "fs/.b.o.cmd": "garbage"},
			users: []string{"fs/a.o"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tree := t.TempDir()
			for name, body := range c.files {
				body = strings.ReplaceAll(body, "{tree}", tree)
				writeFile(t, filepath.Join(tree, name), body)
			}
			if c.link {
				require.NoError(t, os.Symlink(src, filepath.Join(tree, "source")))
			}
			users, err := headerUsers(tree, []string{h})
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.users, users[h])
		})
	}
}
