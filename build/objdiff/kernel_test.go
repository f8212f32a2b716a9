// SPDX-License-Identifier: Apache-2.0

package objdiff

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
	"github.com/klpkit/klpkit/internal/lab"
)

// labTree returns the lab's prepared kernel source tree and headers dir.
// Without the lab these tests skip, unless KLPKIT_VMTEST=1 (make test, CI)
// says the lab must be there.
func labTree(t testing.TB) (source, headers string) {
	t.Helper()
	missing := t.Skipf
	if os.Getenv("KLPKIT_VMTEST") == "1" {
		missing = t.Fatalf
	}
	l, err := lab.Open(lab.DirFromEnv(os.Getenv))
	if err != nil {
		missing("needs the test lab's kernel source tree (make lab): %v", err)
		return "", ""
	}
	if l.SourceDir == "" {
		missing("needs the test lab's prepared kernel source tree (klplab prepare --source)")
		return "", ""
	}
	if _, err := os.Stat(filepath.Join(l.SourceDir, "fs", "proc", ".meminfo.o.cmd")); err != nil {
		// kbuild records the compiler line of an object it builds: build
		// one to learn the tree's flags.
		args := append(lab.KbuildArgs(l.KernelRelease), "KCFLAGS=-ffunction-sections -fdata-sections", "fs/proc/meminfo.o")
		cmd := exec.Command("make", args...)
		cmd.Dir = l.SourceDir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "make fs/proc/meminfo.o:\n%s", out)
	}
	return l.SourceDir, l.HeadersDir
}

// kbuildLine returns kbuild's recorded compiler and objtool commands for
// fs/proc/meminfo.o, used as the template for any object of the tree.
// Another test may be rebuilding that object: retry a torn read.
func kbuildLine(t testing.TB, tree string) (cc, objtool string) {
	for try := 0; ; try++ {
		data, err := os.ReadFile(filepath.Join(tree, "fs", "proc", ".meminfo.o.cmd"))
		line, _, _ := strings.Cut(string(data), "\n")
		_, cmd, ok := strings.Cut(line, ":=")
		if err == nil && ok && strings.Contains(cmd, meminfoArgs) && strings.Contains(cmd, meminfoDeps) {
			cc, objtool, _ = strings.Cut(cmd, ";")
			return strings.TrimSpace(cc), strings.TrimSpace(objtool)
		}
		if try == 5 {
			t.Fatalf("fs/proc/.meminfo.o.cmd: no usable compiler line (%v)", err)
		}
		time.Sleep(time.Second)
	}
}

// The parts of the recorded line that name meminfo's own files.
const (
	meminfoArgs = "-c -o fs/proc/meminfo.o fs/proc/meminfo.c"
	meminfoDeps = "-Wp,-MMD,fs/proc/.meminfo.o.d"
)

// compileKernelObject compiles src (a copy of tree/rel, maybe patched)
// with kbuild's flags and objtool, as kbuild would compile rel, into out.
// Objects of modules (module != "") get kbuild's -DMODULE and names.
func compileKernelObject(t testing.TB, tree, rel, module, src, out string) {
	t.Helper()
	cc, objtool := kbuildLine(t, tree)
	if module != "" {
		cc = strings.ReplaceAll(cc, `-DKBUILD_MODFILE='"fs/proc/proc"'`, `-DKBUILD_MODFILE='"`+strings.TrimSuffix(rel, ".c")+`"'`)
		cc = strings.ReplaceAll(cc, `-DKBUILD_MODNAME='"proc"' -D__KBUILD_MODNAME=kmod_proc`,
			`-DKBUILD_MODNAME='"`+module+`"' -D__KBUILD_MODNAME=kmod_`+module+` -DMODULE`)
		objtool = strings.Replace(objtool, "objtool ", "objtool --module ", 1)
	}
	cc = strings.Replace(cc, meminfoDeps, "", 1)
	cc = strings.Replace(cc, meminfoArgs, "", 1)
	// The recorded line is whatever last built meminfo.o (a plain kbuild
	// make leaves no section flags): the differ needs them.
	for _, flag := range []string{"-ffunction-sections", "-fdata-sections"} {
		if !strings.Contains(cc, flag) {
			cc += " " + flag
		}
	}
	base := strings.TrimSuffix(filepath.Base(rel), ".c")
	cc = strings.ReplaceAll(cc, `"meminfo"`, `"`+base+`"`)
	args := cc + " -I " + filepath.Dir(rel) + " -c -o " + out + " " + src
	cmd := exec.Command("sh", "-c", args)
	cmd.Dir = tree
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Run(), "compiling %s: %s", rel, stderr.String())
	if objtool != "" {
		require.True(t, strings.HasSuffix(objtool, " fs/proc/meminfo.o"), "unexpected objtool line %q", objtool)
		objtool = strings.TrimSuffix(objtool, "fs/proc/meminfo.o") + out
		cmd := exec.Command("sh", "-c", objtool)
		cmd.Dir = tree
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "objtool: %s", out)
	}
}

// buildKernelPair compiles tree/rel as it is and with old replaced by new.
func buildKernelPair(t testing.TB, tree, rel, old, new string) (orig, patched string) {
	return buildKernelModulePair(t, tree, rel, "", old, new)
}

// buildKernelModulePair is buildKernelPair for an object of module.
func buildKernelModulePair(t testing.TB, tree, rel, module, old, new string) (orig, patched string) {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(tree, rel))
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(text), old), "patch anchor in %s", rel)
	dir := t.TempDir()
	base := strings.TrimSuffix(filepath.Base(rel), ".c")
	srcs := map[string][]byte{"orig": text, "patched": []byte(strings.Replace(string(text), old, new, 1))}
	outs := map[string]string{}
	// Both sides are compiled from the same path, as the build does:
	// __FILE__ ends up in dynamic debug descriptors and WARN strings.
	src := filepath.Join(dir, "src", base+".c")
	require.NoError(t, os.MkdirAll(filepath.Dir(src), 0o755))
	for side, body := range srcs {
		require.NoError(t, os.WriteFile(src, body, 0o644))
		require.NoError(t, os.MkdirAll(filepath.Join(dir, side), 0o755))
		outs[side] = filepath.Join(dir, side, base+".o")
		compileKernelObject(t, tree, rel, module, src, outs[side])
	}
	return outs["orig"], outs["patched"]
}

// readSymvers reads the exported symbols of a Module.symvers file.
func readSymvers(t testing.TB, path string) map[string]bool {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Split(sc.Text(), "\t"); len(fields) >= 2 {
			out[fields[1]] = true
		}
	}
	return out
}

// TestKernelMeminfo builds fs/proc/meminfo.o of the lab kernel twice with
// a one-line patch and diffs the pair with the 6.1 default entry sizes:
// real special sections (ORC, return thunks, static calls, mcount) and
// kbuild flags.
func TestKernelMeminfo(t *testing.T) {
	tree, headers := labTree(t)
	orig, patched := buildKernelPair(t, tree, "fs/proc/meminfo.c",
		`show_val_kb(m, "MemTotal:       ", i.totalram);`,
		`show_val_kb(m, "MemTotal(klp):  ", i.totalram);`)
	res, err := Diff(mustOpen(t, orig), mustOpen(t, patched), &Options{
		Name: "fs/proc/meminfo.o", Sizes: DefaultSizes,
		Exported: readSymvers(t, filepath.Join(headers, "Module.symvers")),
	})
	require.NoError(t, err)
	require.Equal(t, []string{"meminfo_proc_show"}, names(res.Changed))
	require.Empty(t, res.New)
	klp := res.LivepatchSymbols()
	require.Contains(t, klp, "arch_report_meminfo", "non-exported callee resolved by the livepatch core")
	var sections []string
	for _, s := range res.out.Sections {
		sections = append(sections, s.Name)
	}
	for _, want := range []string{"__mcount_loc", ".orc_unwind", ".orc_unwind_ip", ".return_sites"} {
		require.Contains(t, sections, want, "special section regenerated for the included function")
	}
	for _, r := range res.Relocations {
		if r.Symbol == "seq_printf" {
			require.True(t, r.Exported)
			require.False(t, r.Livepatch)
		}
	}
	path := filepath.Join(t.TempDir(), "meminfo-patch.o")
	require.NoError(t, res.WriteFile(path))
	checkObjectTools(t, path)
	t.Logf("sections %v", sections)
	t.Logf("included %d symbols, %d relocations left (%d klp: %v)", len(res.Included), len(res.Relocations), len(klp), klp)
}

// TestKernelNoChange builds meminfo.o twice with a comment-only patch.
func TestKernelNoChange(t *testing.T) {
	tree, _ := labTree(t)
	orig, patched := buildKernelPair(t, tree, "fs/proc/meminfo.c",
		"static int meminfo_proc_show(struct seq_file *m, void *v)\n",
		"/* klpkit: comment only */\nstatic int meminfo_proc_show(struct seq_file *m, void *v)\n")
	_, err := Diff(mustOpen(t, orig), mustOpen(t, patched), &Options{Name: "fs/proc/meminfo.o", Sizes: DefaultSizes})
	require.ErrorIs(t, err, ErrNoChanges)
}

// schedCorePatch is a one-line change to idle_cpu() in kernel/sched/core.c.
var schedCorePatch = [2]string{"int idle_cpu(int cpu)\n{\n", "int idle_cpu(int cpu)\n{\n\tbarrier();\n\tif (cpu < 0)\n\t\treturn 0;\n"}

// TestKernelSchedCore diffs one of the kernel's largest objects: 1,389
// sections, jump labels, static calls, alternatives, ORC.
func TestKernelSchedCore(t *testing.T) {
	tree, headers := labTree(t)
	orig, patched := buildKernelPair(t, tree, "kernel/sched/core.c", schedCorePatch[0], schedCorePatch[1])
	res, err := Diff(mustOpen(t, orig), mustOpen(t, patched), &Options{
		Name: "kernel/sched/core.o", Sizes: DefaultSizes,
		Exported: readSymvers(t, filepath.Join(headers, "Module.symvers")),
	})
	require.NoError(t, err)
	// gcc inlines idle_cpu() into these callers, so they change too.
	require.Equal(t, []string{"available_idle_cpu", "get_nohz_timer_target", "idle_cpu", "nohz_csd_func", "scheduler_tick"}, names(res.Changed))
	path := filepath.Join(t.TempDir(), "core-patch.o")
	require.NoError(t, res.WriteFile(path))
	checkObjectTools(t, path)
	t.Logf("changed %v, %d relocations left, klp targets %v", names(res.Changed), len(res.Relocations), res.LivepatchSymbols())
}

// TestKernelModuleObject diffs an object of a module (fs/nls/nls_utf8.c,
// CONFIG_NLS_UTF8=m): the module's own statics become livepatch
// relocations, exports of vmlinux stay normal relocations.
func TestKernelModuleObject(t *testing.T) {
	tree, headers := labTree(t)
	orig, patched := buildKernelModulePair(t, tree, "fs/nls/nls_utf8.c", "nls_utf8",
		"\t\t*out = '?';\n\t\treturn -EINVAL;",
		"\t\t*out = '_';\n\t\treturn -EINVAL;")
	res, err := Diff(mustOpen(t, orig), mustOpen(t, patched), &Options{
		Name: "fs/nls/nls_utf8.o", Parent: "nls_utf8", Sizes: DefaultSizes,
		Exported: readSymvers(t, filepath.Join(headers, "Module.symvers")),
	})
	require.NoError(t, err)
	require.Equal(t, []string{"uni2char"}, names(res.Changed))
	require.Equal(t, "nls_utf8", res.Parent)
	for _, r := range res.Relocations {
		if r.Symbol == "utf32_to_utf8" {
			require.True(t, r.Exported, "utf32_to_utf8 is a vmlinux export")
			require.False(t, r.Livepatch)
		}
	}
	path := filepath.Join(t.TempDir(), "nls_utf8-patch.o")
	require.NoError(t, res.WriteFile(path))
	checkObjectTools(t, path)
	t.Logf("relocations: %d, klp targets %v", len(res.Relocations), res.LivepatchSymbols())
}

// TestKernelModuleColdPart diffs fs/binfmt_misc.c (CONFIG_BINFMT_MISC=m)
// with the strings of bm_status_read changed (the pipeline's module
// patch): gcc splits bm_status_read.cold, and the patch object must carry
// it rather than refer to the module's copy, which jumps back into the
// original bm_status_read.
func TestKernelModuleColdPart(t *testing.T) {
	tree, headers := labTree(t)
	orig, patched := buildKernelModulePair(t, tree, "fs/binfmt_misc.c", "binfmt_misc",
		`char *s = enabled ? "enabled\n" : "disabled\n";`,
		`char *s = enabled ? "enabled klpkit-module\n" : "disabled klpkit-module\n";`)
	res, err := Diff(mustOpen(t, orig), mustOpen(t, patched), &Options{
		Name: "fs/binfmt_misc.o", Parent: "binfmt_misc", Sizes: DefaultSizes,
		Exported: readSymvers(t, filepath.Join(headers, "Module.symvers")),
	})
	require.NoError(t, err)
	require.Equal(t, []string{"bm_status_read"}, names(res.Changed))
	f, err := elfobj.Read(mustOpen(t, patched))
	require.NoError(t, err)
	if f.Symbol("bm_status_read.cold") != nil {
		requireLocalCold(t, res, "bm_status_read")
	} else {
		t.Logf("this compiler did not split bm_status_read.cold; checking only that no .cold part is referenced")
		requireLocalCold(t, res)
	}
	path := filepath.Join(t.TempDir(), "binfmt_misc-patch.o")
	require.NoError(t, res.WriteFile(path))
	checkObjectTools(t, path)
}
