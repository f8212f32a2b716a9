// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeKbuild writes, in work, the .cmd files a kbuild of module name with
// objs would leave, with shell commands standing for the compiler and
// linkers: each output holds its inputs, so a replay shows what it read.
func fakeKbuild(t *testing.T, kbuild, work, name string, objs []string) {
	t.Helper()
	mod := strings.ReplaceAll(name, "-", "_")
	w := work + "/"
	maps := strings.Join(debugPrefixMaps(work), " ")
	cmds := map[string]string{
		hookName + ".o":  "./fakecc -DKBUILD_BASENAME='\"klpkit_hook\"' -DKBUILD_MODNAME='\"" + mod + "\"' " + maps + " " + w + hookName + ".c > " + w + hookName + ".o",
		name + ".mod":    "printf '%s\\n' " + strings.Join(objs, " ") + " | awk '{ print(\"" + w + "\"$$0) }' > " + w + name + ".mod",
		"modules.order":  "echo " + w + name + ".ko > " + w + "modules.order",
		name + ".o":      "cat $$(cat " + w + name + ".mod) > " + w + name + ".o",
		"Module.symvers": ": > " + w + "Module.symvers",
		name + ".mod.o":  "echo -D__KBUILD_MODNAME=kmod_" + mod + " -DKBUILD_BASENAME='\"" + mod + ".mod\"' -MD," + w + "." + name + ".mod.o.d > " + w + name + ".mod.o",
		name + ".ko":     "cat " + w + name + ".o " + w + name + ".mod.o > " + w + name + ".ko; true",
	}
	for target, cmd := range cmds {
		line := "savedcmd_" + w + target + " := " + cmd + "\n"
		require.NoError(t, os.WriteFile(filepath.Join(work, "."+target+".cmd"), []byte(line), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(kbuild, "fakecc"), []byte("#!/bin/sh\nfor a; do f=$a; done\ncat \"$f\"\n"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(kbuild, "tools/objtool"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(kbuild, "tools/objtool/objtool"), []byte("#!/bin/sh\nfor a; do f=$a; done\necho objtool >> \"$f\"\n"), 0o755))
}

// fakeMakeLog is make's V=1 output for fakeKbuild's commands, with a
// 5.10-style objtool pass after the hook's compile that no .cmd file
// holds, and a 6.1-style append to the hook's .cmd file.
func fakeMakeLog(t *testing.T, work string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(work, "."+hookName+".o.cmd"))
	require.NoError(t, err)
	_, compile, _ := strings.Cut(strings.TrimSpace(string(data)), " := ")
	hook := work + "/" + hookName + ".o"
	return "make[1]: Entering directory '/kbuild'\n  " + compile + "\n" +
		"  { echo ; echo '" + hook + ": $(wildcard ./tools/objtool/objtool)' ; } >> " + work + "/." + hookName + ".o.cmd\n" +
		hook + ": warning: objtool: something\n" +
		"   ./tools/objtool/objtool orc generate --module " + hook + "\n" +
		"  cat " + work + "/klpkit-patch-0.o_shipped > " + work + "/klpkit-patch-0.o\n"
}

func TestLinkRecipeRecordReplay(t *testing.T) {
	kbuild, work, again := t.TempDir(), t.TempDir(), t.TempDir()
	fakeKbuild(t, kbuild, work, "test-first", []string{hookName + ".o", "klpkit-patch-0.o"})
	r, err := recordRecipe(kbuild, work, "test-first", []string{hookName + ".o", "klpkit-patch-0.o"}, os.Getenv("PATH"), fakeMakeLog(t, work))
	require.NoError(t, err)
	for _, s := range r.Steps {
		require.NotContains(t, s, work)
		require.NotContains(t, s, "test")
	}
	var tools []string
	for _, tool := range r.Tools {
		tools = append(tools, filepath.Base(tool.Path))
	}
	require.Contains(t, tools, "fakecc")
	require.Contains(t, tools, "objtool")

	objs := []string{hookName + ".o", "klpkit-patch-0.o", "klpkit-patch-1.o"}
	files := map[string]string{hookName + ".c": "hook\n", "klpkit-patch-0.o": "zero\n", "klpkit-patch-1.o": "one\n"}
	for f, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(again, f), []byte(data), 0o644))
	}
	require.NoError(t, r.replay(t.Context(), &LinkOptions{KbuildDir: kbuild}, again, "live-patch-2", objs, nil))
	ko, err := os.ReadFile(filepath.Join(again, "live-patch-2.ko"))
	require.NoError(t, err)
	require.Equal(t, "hook\nobjtool\nzero\none\n-D__KBUILD_MODNAME=kmod_live_patch_2 -DKBUILD_BASENAME=\"live_patch_2.mod\" -MD,"+again+"/.live-patch-2.mod.o.d\n", string(ko))
	order, err := os.ReadFile(filepath.Join(again, "modules.order"))
	require.NoError(t, err)
	require.Equal(t, again+"/live-patch-2.ko\n", string(order))
}

func TestLinkRecipeRefused(t *testing.T) {
	kbuild := t.TempDir()
	objs := []string{hookName + ".o", "klpkit-patch-0.o"}
	for _, tc := range []struct {
		name, edit string
		want       error
	}{
		{"missing cmd file", "rm", errNoRecipe},
		{"name elsewhere", "name", errNameInCommands},
		{"patch object outside the list", "obj", errNoRecipe},
	} {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			fakeKbuild(t, kbuild, work, "mod-x", objs)
			p := filepath.Join(work, ".Module.symvers.cmd")
			switch tc.edit {
			case "rm":
				require.NoError(t, os.Remove(p))
			case "name":
				require.NoError(t, os.WriteFile(p, []byte("savedcmd_"+work+"/Module.symvers := echo mod-x > "+work+"/Module.symvers\n"), 0o644))
			case "obj":
				require.NoError(t, os.WriteFile(p, []byte("savedcmd_"+work+"/Module.symvers := cat klpkit-patch-0.o > "+work+"/Module.symvers\n"), 0o644))
			}
			_, err := recordRecipe(kbuild, work, "mod-x", objs, os.Getenv("PATH"), "")
			require.ErrorIs(t, err, tc.want)
		})
	}
	_, err := recordRecipe(kbuild, "/tmp/with space", "m", objs, "", "")
	require.ErrorIs(t, err, errNoRecipe)
}

// TestLinkRecipeInvalidated: a recipe is found again only for the same
// kernel configuration, make arguments and environment, and only while the
// programs it runs are unchanged.
func TestLinkRecipeInvalidated(t *testing.T) {
	kbuild, cache := t.TempDir(), t.TempDir()
	write := func(name, data string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(kbuild, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(kbuild, name), []byte(data), 0o755))
	}
	write(".config", "CONFIG_X=y\n")
	write("include/config/kernel.release", "6.1.0\n")
	write("tools/objtool/objtool", "#!/bin/sh\n")
	o := LinkOptions{KbuildDir: kbuild, MakeArgs: []string{"CC=gcc-12"}}
	env := []string{"PATH=/usr/bin", "HOME=/root"}
	key, err := recipeKey(o, env)
	require.NoError(t, err)

	steps := []string{"./tools/objtool/objtool --module x.o"}
	r := &recipe{Version: recipeVersion, Steps: steps, Tools: stampTools(kbuild, "", steps)}
	require.Len(t, r.Tools, 1)
	require.NoError(t, storeRecipe(cache, key, r))
	require.NotNil(t, loadRecipe(cache, key))

	other := func(o LinkOptions, env []string) string {
		k, err := recipeKey(o, env)
		require.NoError(t, err)
		return k
	}
	require.Equal(t, key, other(o, []string{"PATH=/usr/bin", "HOME=/elsewhere"}), "HOME does not reach kbuild's commands")
	require.NotEqual(t, key, other(o, []string{"PATH=/opt/bin", "HOME=/root"}))
	require.NotEqual(t, key, other(o, append(env, "KCFLAGS=-O3")))
	require.NotEqual(t, key, other(LinkOptions{KbuildDir: kbuild, MakeArgs: []string{"CC=gcc-13"}}, env))
	write(".config", "CONFIG_X=n\n")
	require.NotEqual(t, key, other(o, env))
	write(".config", "CONFIG_X=y\n")
	require.Equal(t, key, other(o, env))

	// A rebuilt objtool, same size: its time tells.
	later := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(kbuild, "tools/objtool/objtool"), later, later))
	require.Nil(t, loadRecipe(cache, key))
}
