package build

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/build/objdiff"
)

func TestLineVerdict(t *testing.T) {
	states := map[string]objdiff.FunctionState{
		"same":          {Status: "SAME", Original: "same"},
		"changed":       {Status: "CHANGED", Original: "changed"},
		"changed.cold":  {Status: "CHANGED", Original: "changed.cold", Parent: "changed"},
		"orphan":        {Status: "CHANGED", Original: "orphan"},
		"orphan.cold":   {Status: "CHANGED", Original: "orphan.cold", Parent: "orphan"},
		"clone.isra.1":  {Status: "CHANGED", Original: "clone.isra.0"},
		"helper":        {Status: "NEW"},
		"dead":          {Status: "NEW"},
		"moved":         {Status: "NEW"},
		"new.cold":      {Status: "NEW", Parent: "changed"},
		"weird":         {Status: "MAYBE"},
		"lost.part.0":   {Status: "CHANGED", Original: "lost.part.0", Parent: "gone"},
		"cold.of.moved": {Status: "NEW", Parent: "moved"},
	}
	state := func(name string) (objdiff.FunctionState, bool) { s, ok := states[name]; return s, ok }
	origFuncs := map[string]bool{"same": true, "changed": true, "orphan": true, "moved": true, "clone.isra.0": true}
	redirected := map[string]bool{"changed": true, "clone.isra.0": true}
	reached := map[string]bool{"helper": true, "moved": true, "new.cold": true}
	cases := []struct {
		fn, want string // want: "" or a word of the reason
	}{
		{"same", ""},
		{"changed", ""},
		{"changed.cold", ""}, // its parent is redirected
		{"clone.isra.1", ""}, // redirected under the original's name
		{"helper", ""},       // new, called from redirected code
		{"new.cold", ""},
		{"orphan", "does not redirect"},
		{"orphan.cold", "does not redirect"},
		{"lost.part.0", "does not redirect"},
		{"dead", "never run"},
		{"moved", "leave the running one in place"}, // reached, but the original keeps running
		{"unknown", "no verdict"},
		{"weird", "unknown differ verdict"},
	}
	for _, c := range cases {
		t.Run(c.fn, func(t *testing.T) {
			got := lineVerdict(state, c.fn, origFuncs, redirected, reached)
			if c.want == "" {
				require.Empty(t, got)
			} else {
				require.Contains(t, got, c.want)
			}
		})
	}
}

func TestTreeRelative(t *testing.T) {
	roots := []string{"/src/linux", "/real/linux"}
	cases := map[string]string{
		"fs/proc/array.c":                 "fs/proc/array.c",
		"./include/linux/sched.h":         "include/linux/sched.h",
		"/src/linux/fs/proc/array.c":      "fs/proc/array.c",
		"/real/linux/include/linux/fs.h":  "include/linux/fs.h",
		"/usr/lib/gcc/x86_64/12/stddef.h": "",
		"/src/linux-other/x.c":            "",
	}
	for in, want := range cases {
		require.Equal(t, want, treeRelative(roots, in), in)
	}
}

func TestNotPatchedError(t *testing.T) {
	err := error(&NotPatchedError{Object: "fs/proc/array.o", Function: "proc_task_name", File: "fs/proc/array.c", Line: 102, Reason: "r"})
	require.ErrorIs(t, err, ErrChangeNotPatched)
	require.Equal(t, "fs/proc/array.o: proc_task_name (code of fs/proc/array.c:102): r", err.Error())
}
