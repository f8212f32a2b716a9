// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/livepatch"
)

var update = flag.Bool("update", false, "rewrite golden files")

func testModule() *Module {
	return &Module{
		Name:        "livepatch-fix",
		Description: "Fix \"CVE-2026-0001\"\nsecond line",
		Objects: []Object{
			{Name: "vmlinux", Funcs: []Func{
				{OldName: "cmdline_proc_show", NewSymbol: "klpkit_new_0_0"},
				{OldName: "netstat_show.constprop.0", Sympos: 2, NewSymbol: "klpkit_new_1_0"},
			}},
			{Name: "binfmt_misc", Funcs: []Func{{OldName: "bm_status_read", NewSymbol: "klpkit_new_2_0"}},
				Callbacks: Callbacks{PrePatch: "klpkit_cb_2_pre_patch", PostUnpatch: "klpkit_cb_2_post_unpatch"}},
			{Name: "only_callbacks", Callbacks: Callbacks{PostPatch: "klpkit_cb_3_post_patch"}},
		},
	}
}

func TestModuleSourceGolden(t *testing.T) {
	for _, tc := range []struct {
		golden    string
		noReplace bool
	}{{"module.c.golden", false}, {"module-noreplace.c.golden", true}} {
		m := testModule()
		m.NoReplace = tc.noReplace
		src, err := m.Source()
		require.NoError(t, err)
		path := filepath.Join("testdata", tc.golden)
		if *update {
			require.NoError(t, os.WriteFile(path, src, 0o644))
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(src), "go test ./build/internal/klp -update rewrites %s", path)
	}
}

func TestModuleValidate(t *testing.T) {
	for name, c := range map[string]struct {
		edit func(*Module)
		says string
	}{
		"bad name":        {func(m *Module) { m.Name = "live patch" }, `module name "live patch"`},
		"long name":       {func(m *Module) { m.Name = string(bytes.Repeat([]byte("m"), 60)) }, "at most 55 characters"},
		"no objects":      {func(m *Module) { m.Objects = nil }, "no objects to patch"},
		"dotted object":   {func(m *Module) { m.Objects[1].Name = "binfmt.misc" }, `bad target object name "binfmt.misc"`},
		"dashed object":   {func(m *Module) { m.Objects[1].Name = "binfmt-misc" }, `bad target object name "binfmt-misc"`},
		"twice":           {func(m *Module) { m.Objects[1].Name = "vmlinux" }, "target vmlinux listed twice"},
		"no funcs":        {func(m *Module) { m.Objects[0].Funcs = nil }, "has no functions or callbacks"},
		"bad new symbol":  {func(m *Module) { m.Objects[0].Funcs[0].NewSymbol = "x.y" }, "bad function entry"},
		"negative sympos": {func(m *Module) { m.Objects[0].Funcs[0].Sympos = -1 }, "bad function entry"},
		"bad callback":    {func(m *Module) { m.Objects[2].Callbacks.PostPatch = "a b" }, `callback symbol "a b"`},
		"nothing to do":   {func(m *Module) { m.Objects[2].Callbacks = Callbacks{} }, "has no functions or callbacks"},
	} {
		m := testModule()
		c.edit(m)
		_, err := m.Source()
		require.ErrorIs(t, err, livepatch.ErrInvalidModule, name)
		assert.Contains(t, err.Error(), c.says, name)
	}
}

func TestCallbacksSet(t *testing.T) {
	var c Callbacks
	require.NoError(t, c.Set("pre_unpatch", "a"))
	require.Error(t, c.Set("pre_unpatch", "b"), "one of a kind")
	require.Error(t, c.Set("on_load", "c"))
	assert.Equal(t, Callbacks{PreUnpatch: "a"}, c)
}

func TestCString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":      `"plain"`,
		`q"b\`:       `"q\"b\\"`,
		"nl\nx":      `"nl\nx"`,
		"tab\tx\x01": `"tab\011x\001"`,
		"é":          `"\303\251"`,
	} {
		assert.Equal(t, want, cString(in), in)
	}
}
