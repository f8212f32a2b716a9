// SPDX-License-Identifier: Apache-2.0

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
		fn      string
		verdict verdict
		reason  string // a word of the reason
	}{
		{"same", verdictRuns, ""},
		{"changed", verdictRuns, ""},
		{"changed.cold", verdictRuns, ""}, // its parent is redirected
		{"clone.isra.1", verdictRuns, ""}, // redirected under the original's name
		{"helper", verdictRuns, ""},       // new, called from redirected code
		{"new.cold", verdictRuns, ""},
		{"dead", verdictDead, ""},
		{"orphan", verdictWrong, "does not redirect"},
		{"orphan.cold", verdictWrong, "does not redirect"},
		{"lost.part.0", verdictWrong, "does not redirect"},
		{"moved", verdictWrong, "leave the running one in place"}, // reached, but the original keeps running
		{"unknown", verdictWrong, "no verdict"},
		{"weird", verdictWrong, "unknown differ verdict"},
	}
	for _, c := range cases {
		t.Run(c.fn, func(t *testing.T) {
			v, reason := lineVerdict(state, c.fn, origFuncs, redirected, reached)
			require.Equal(t, c.verdict, v)
			if c.reason == "" {
				require.Empty(t, reason)
			} else {
				require.Contains(t, reason, c.reason)
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
		"/src/linux/fs/../include/x.h":    "include/x.h",
		"../outside/x.h":                  "",
	}
	for in, want := range cases {
		got, ok := treeRelative(roots, in)
		require.Equal(t, want, got, in)
		require.Equal(t, want != "", ok, in)
	}
	// A relative object directory left by a prefix map is cut first.
	got, ok := treeRelative([]string{"debian/build/amd64"}, "debian/build/amd64/fs/proc/base.c")
	require.True(t, ok)
	require.Equal(t, "fs/proc/base.c", got)
}

func TestNotPatchedError(t *testing.T) {
	err := error(&NotPatchedError{Object: "fs/proc/array.o", Function: "proc_task_name", File: "fs/proc/array.c", Line: 102, Reason: "r"})
	require.ErrorIs(t, err, ErrChangeNotPatched)
	require.Equal(t, "fs/proc/array.o: proc_task_name (code of fs/proc/array.c:102): r", err.Error())
}

func TestJudgeLines(t *testing.T) {
	verdicts := map[string]verdict{"copy_process": verdictRuns, "kpatch_foo": verdictDead, "never": verdictDead, "old": verdictWrong}
	judge := func(fn string) (verdict, string) {
		if verdicts[fn] == verdictWrong {
			return verdictWrong, "wrong " + fn
		}
		return verdicts[fn], ""
	}
	h := func(fn string, line int) lineHolder {
		return lineHolder{function: fn, file: "kernel/fork.c", line: line}
	}
	cases := []struct {
		name    string
		holders []lineHolder
		want    []string // functions refused
	}{
		// kpatch's special-static: kpatch_foo is inlined into copy_process
		// (its body lines run there) and kept out of line, unused.
		{"inlined new global", []lineHolder{h("kpatch_foo", 1714), h("kpatch_foo", 1715), h("copy_process", 1715), h("kpatch_foo", 1717)}, nil},
		// Only part of kpatch_foo's body runs inlined: line 1716 runs nowhere.
		{"partly inlined new global", []lineHolder{h("kpatch_foo", 1714), h("kpatch_foo", 1715), h("kpatch_foo", 1716), h("copy_process", 1715), h("kpatch_foo", 1717)}, []string{"kpatch_foo"}},
		{"dead new function", []lineHolder{h("never", 8), h("never", 9), h("copy_process", 20)}, []string{"never"}},
		{"old code keeps running", []lineHolder{h("old", 3), h("old", 4), h("copy_process", 3)}, []string{"old"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, err := range judgeLines("kernel/fork.o", c.holders, judge) {
				var np *NotPatchedError
				require.ErrorAs(t, err, &np)
				require.ErrorIs(t, err, ErrChangeNotPatched)
				got = append(got, np.Function)
			}
			require.Equal(t, c.want, got)
		})
	}
}
