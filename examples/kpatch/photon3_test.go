// SPDX-License-Identifier: Apache-2.0

package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPhoton3Commands: what kpatch says for each stack command on Photon
// 3.0's 4.19 (no atomic replace, only the topmost patch can be disabled),
// and the list after it. In args and messages, MOD(x) is the path of x's
// module file.
func TestPhoton3Commands(t *testing.T) {
	const stacking = ": kernel before 5.1 only disables the topmost patch (unload the newer patches first)\n"
	for _, tc := range []struct {
		name     string
		stack    []string // loaded in this order, bottom first
		disabled []string // then disabled by hand
		args     []string
		err      error    // sentinel, nil for success
		stderr   string   // exact
		stdout   []string // each in stdout, in this order
		list     string   // kpatch list's loaded section after
	}{
		{name: "load stacks", stack: []string{"lp_a"}, args: []string{"load", "MOD(lp_b)"},
			stdout: []string{"loading patch module: MOD(lp_b)\n", "transition complete"},
			list:   "lp_a [enabled]\nlp_b [enabled]\n"},
		{name: "load above a disabled patch", stack: []string{"lp_a"}, disabled: []string{"lp_a"}, args: []string{"load", "MOD(lp_b)"},
			err: kmod.ErrStackingEnforced,
			stderr: "kpatch: failed to load module MOD(lp_b): lp_a is loaded but disabled, and kernels before 5.1 enable a new patch only on top of an enabled one: unload lp_a first" +
				stacking,
			list: "lp_a [disabled]\n"},
		{name: "unload the topmost", stack: []string{"lp_a", "lp_b"}, args: []string{"unload", "lp_b"},
			stdout: []string{"disabling patch module: lp_b\n", "unloading patch module: lp_b\n"},
			list:   "lp_a [enabled]\n"},
		{name: "unload below another", stack: []string{"lp_a", "lp_b"}, args: []string{"unload", "lp_a"},
			err:    kmod.ErrStackingEnforced,
			stderr: "kpatch: failed to unload module lp_a: lp_a lies below lp_b" + stacking,
			list:   "lp_a [enabled]\nlp_b [enabled]\n"},
		{name: "unload below another, kpatch's spelling", stack: []string{"lp_a", "lp_b"}, args: []string{"unload", "lp-a"},
			err:    kmod.ErrStackingEnforced,
			stderr: "kpatch: failed to unload module lp-a: lp_a lies below lp_b" + stacking,
			list:   "lp_a [enabled]\nlp_b [enabled]\n"},
		{name: "unload below a disabled patch", stack: []string{"lp_a", "lp_b"}, disabled: []string{"lp_b"}, args: []string{"unload", "lp_a"},
			stdout: []string{"disabling patch module: lp_a\n", "unloading patch module: lp_a\n"},
			list:   "lp_b [disabled]\n"},
		{name: "unload a disabled patch", stack: []string{"lp_a"}, disabled: []string{"lp_a"}, args: []string{"unload", "lp_a"},
			stdout: []string{"unloading patch module: lp_a\n"}},
		{name: "unload all, newest first", stack: []string{"lp_a", "lp_b", "lp_c"}, args: []string{"unload", "--all"},
			stdout: []string{"unloading patch module: lp_c\n", "unloading patch module: lp_b\n", "unloading patch module: lp_a\n"}},
		{name: "retire older, refused", stack: []string{"lp_a", "lp_b"}, args: []string{"load", "--retire-older", "MOD(lp_c)"},
			err: kmod.ErrStackingEnforced,
			stderr: "kpatch: failed to load module MOD(lp_c): lp_c is live, but retiring older patches failed: " +
				"lp_b, lp_a lie below lp_c, and retiring them means disabling lp_c for a moment (allow the unpatched window to do that)" + stacking,
			list: "lp_a [enabled]\nlp_b [enabled]\nlp_c [enabled]\n"},
		{name: "retire older, handed over", stack: []string{"lp_a", "lp_b"}, args: []string{"load", "--retire-older", "--allow-unpatched-window", "MOD(lp_c)"},
			stdout: []string{"kernel before 5.1: taking lp_c down to retire the patch modules below it\n", "disabling patch module: lp_c\n",
				"unloading patch module: lp_b\n", "retired older patch module: lp_b\n",
				"unloading patch module: lp_a\n", "retired older patch module: lp_a\n",
				"enabling patch module: lp_c\n", "lp_c is live again after "},
			list: "lp_c [enabled]\n"},
		{name: "retire older, nothing older", args: []string{"load", "--retire-older", "MOD(lp_c)"},
			stdout: []string{"loading patch module: MOD(lp_c)\n"},
			list:   "lp_c [enabled]\n"},
		{name: "retire older with --all", stack: []string{"lp_a"}, args: []string{"load", "--all", "--retire-older"},
			stderr: "kpatch: --retire-older goes with one module, not --all\n",
			list:   "lp_a [enabled]\n"},
		{name: "window without retire", stack: []string{"lp_a"}, args: []string{"load", "--allow-unpatched-window", "MOD(lp_c)"},
			stderr: "kpatch: --allow-unpatched-window goes with --retire-older\n",
			list:   "lp_a [enabled]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const rel = "4.19.325-1.ph3"
			vermagic := rel + " SMP mod_unload modversions "
			e := newCLI(t, &kmodtest.Config{Release: rel, Vermagic: vermagic})
			mod := func(name string) string {
				return e.module(t, name+".ko", name, kmodtest.ModuleSpec{Name: name, Livepatch: true, Vermagic: vermagic})
			}
			paths := strings.NewReplacer("MOD(lp_a)", mod("lp_a"), "MOD(lp_b)", mod("lp_b"), "MOD(lp_c)", mod("lp_c"))
			for _, n := range tc.stack {
				require.NoError(t, e.run("load", mod(n)), n)
			}
			for _, n := range tc.disabled {
				require.NoError(t, e.k.WriteAttr(filepath.Join(e.k.Root, "sys/kernel/livepatch", n, "enabled"), "0"))
				require.Eventually(t, func() bool {
					lp, err := e.a.sys.Livepatch(n)
					return err == nil && !lp.Enabled && !lp.Transition
				}, 5*time.Second, time.Millisecond)
			}
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = paths.Replace(a)
			}
			err := e.run(args...)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
			} else if tc.stderr == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
			assert.Equal(t, paths.Replace(tc.stderr), e.err.String())
			out := e.out.String()
			for _, want := range tc.stdout {
				want = paths.Replace(want)
				i := strings.Index(out, want)
				if !assert.GreaterOrEqual(t, i, 0, "%q not in order in\n%s", want, e.out.String()) {
					break
				}
				out = out[i+len(want):]
			}
			assert.Empty(t, e.k.Rejected(), "no write the 4.19 kernel refuses")
			require.NoError(t, e.run("list"))
			assert.Equal(t, "Loaded patch modules:\n"+tc.list+"\nInstalled patch modules:\n", e.out.String())
		})
	}
}
