// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// procModulesLine formats m the way the kernel prints /proc/modules.
func procModulesLine(m LoadedModule) string {
	deps := "-"
	if len(m.Deps) > 0 {
		deps = strings.Join(m.Deps, ",") + ","
	}
	line := m.Name + " " + strconv.Itoa(m.Size) + " " + strconv.Itoa(m.Refcnt) + " " + deps + " " + m.State + " 0x0000000000000000"
	if m.Taints != "" {
		line += " (" + m.Taints + ")"
	}
	return line
}

// FuzzParseProcModules: every module read from /proc/modules has a name,
// a state and no empty dependency, and printing it back as the kernel
// would and reading that again gives the same module.
func FuzzParseProcModules(f *testing.F) {
	f.Add([]byte("livepatch_x 16384 1 - Live 0xffffffffc0a00000 (OEK)\nxfs 1994752 2 - Live 0x0000000000000000\n"))
	f.Add([]byte("nf_nat 57344 3 nft_chain_nat,xt_MASQUERADE, Live 0x0000000000000000\n"))
	f.Add([]byte("a b c d\n\n  \nm 1 0 - Unloading 0x0 (\n"))
	f.Add([]byte("m -1 99999999999999999999 ,,, Loading 0x0 (K)x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		mods := parseProcModules(data)
		if lines := strings.Count(string(data), "\n") + 1; len(mods) > lines {
			t.Fatalf("%d modules from %d lines", len(mods), lines)
		}
		for _, m := range mods {
			if m.Name == "" || m.State == "" || strings.ContainsAny(m.Name+m.State, " \t\n") {
				t.Fatalf("module %+v has an empty or split name or state", m)
			}
			for _, d := range m.Deps {
				if d == "" || strings.Contains(d, ",") {
					t.Fatalf("module %q has dependency %q", m.Name, d)
				}
			}
			if m.Livepatch() != strings.ContainsRune(m.Taints, 'K') {
				t.Fatalf("module %+v: Livepatch disagrees with its taints", m)
			}
			again := parseProcModules([]byte(procModulesLine(m) + "\n"))
			if len(again) != 1 || procModulesLine(again[0]) != procModulesLine(m) {
				t.Fatalf("module %+v printed as %q reads back as %+v", m, procModulesLine(m), again)
			}
		}
	})
}

// validName reports whether s can name one directory entry.
func validName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00") && len(s) < 200
}

// FuzzLivepatchSysfs: whatever a patch's sysfs attributes hold, Livepatch
// reads them by the kernel's rules (enabled is "1" or not, stack_order a
// number or 0) and lists each object and function directory once.
func FuzzLivepatchSysfs(f *testing.F) {
	f.Add("1\n", "0\n", "1\n", "2\n", "vmlinux", "cmdline_proc_show,1", "1\n")
	f.Add("0", "1", "", "", "xfs", "xfs_fs_fill_super", "")
	f.Add(" 1 \n\n", "x", "0", "-3", "obj", ",7", "0\n")
	f.Add("", "", "", "99999999999999999999", "enabled", "f,", "junk")
	f.Fuzz(func(t *testing.T, enabled, transition, replace, stackOrder, object, function, patched string) {
		if !validName(object) || !validName(function) || patchAttrs[object] {
			return // not a directory name sysfs could show (no skip: CI allows none)
		}
		sys := t.TempDir()
		s := &System{SysRoot: sys}
		dir := s.livepatchPath("p")
		fnDir := filepath.Join(dir, object, function)
		if err := os.MkdirAll(fnDir, 0o755); err != nil {
			return // a name the file system refuses
		}
		write := func(name, v string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("enabled", enabled)
		write("transition", transition)
		if replace != "" {
			write("replace", replace)
		}
		if stackOrder != "" {
			write("stack_order", stackOrder)
		}
		if patched != "" {
			write(filepath.Join(object, "patched"), patched)
		}
		lp, err := s.Livepatch("p")
		if err != nil {
			t.Fatal(err)
		}
		is1 := func(v string) bool { return strings.TrimSpace(strings.TrimRight(v, "\n")) == "1" }
		if lp.Enabled != is1(enabled) || lp.Transition != is1(transition) {
			t.Fatalf("enabled %q transition %q read as %v %v", enabled, transition, lp.Enabled, lp.Transition)
		}
		if (replace == "") != (lp.Replace == nil) || (lp.Replace != nil && *lp.Replace != is1(replace)) {
			t.Fatalf("replace %q read as %v", replace, lp.Replace)
		}
		// A number out of int's range is left unchecked: kmod clamps it
		// (strconv's rule) and the kernel never shows one.
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimRight(stackOrder, "\n")))
		if (err == nil && lp.StackOrder != n) || (errors.Is(err, strconv.ErrSyntax) && lp.StackOrder != 0) {
			t.Fatalf("stack_order %q read as %d", stackOrder, lp.StackOrder)
		}
		if len(lp.Objects) != 1 || lp.Objects[0].Name != object || len(lp.Objects[0].Functions) != 1 {
			t.Fatalf("objects %+v, want %q with one function", lp.Objects, object)
		}
		obj := lp.Objects[0]
		if (patched == "") != (obj.Patched == nil) || (obj.Patched != nil && *obj.Patched != is1(patched)) {
			t.Fatalf("patched %q read as %v", patched, obj.Patched)
		}
		name, _, _ := strings.Cut(function, ",")
		if obj.Functions[0].Name != name {
			t.Fatalf("function directory %q read as %+v", function, obj.Functions[0])
		}
		all, err := s.Livepatches()
		if err != nil || len(all) != 1 || all[0].Name != "p" {
			t.Fatalf("Livepatches: %+v, %v", all, err)
		}
	})
}

// FuzzStalledTasks: a task is reported stalled exactly when its
// patch_state is neither -1 nor the target, with its own pid, tid and comm.
func FuzzStalledTasks(f *testing.F) {
	f.Add("0\n", "bash\n", uint16(100), uint16(101), true, "[<0>] do_wait+0x1/0x2\n")
	f.Add("-1\n", "sshd", uint16(1), uint16(1), false, "")
	f.Add("1", "", uint16(7), uint16(9), false, "")
	f.Add(" 0 ", "x\ny\n", uint16(7), uint16(9), true, "")
	f.Fuzz(func(t *testing.T, state, comm string, pid, tid uint16, target bool, stack string) {
		proc := t.TempDir()
		s := &System{ProcRoot: proc}
		taskDir := filepath.Join(proc, strconv.Itoa(int(pid)), "task", strconv.Itoa(int(tid)))
		if err := os.MkdirAll(taskDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]string{"patch_state": state, "comm": comm, "stack": stack} {
			if err := os.WriteFile(filepath.Join(taskDir, name), []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want := "0"
		if target {
			want = "1"
		}
		v := strings.TrimSpace(strings.TrimRight(state, "\n"))
		stalled := v != "-1" && v != want
		tasks := s.StalledTasks(target)
		if len(tasks) != map[bool]int{true: 1, false: 0}[stalled] {
			t.Fatalf("patch_state %q, target %v: %+v", state, target, tasks)
		}
		if !stalled {
			return
		}
		got := tasks[0]
		if got.PID != int(pid) || got.TID != int(tid) {
			t.Fatalf("task %d/%d read as %d/%d", pid, tid, got.PID, got.TID)
		}
		if c := strings.TrimRight(comm, "\n"); c != "" && got.Comm != c {
			t.Fatalf("comm %q read as %q", comm, got.Comm)
		}
		if got.Stack != strings.TrimRight(stack, "\n") {
			t.Fatalf("stack %q read as %q", stack, got.Stack)
		}
	})
}

// FuzzRefcnt: /sys/module/<name>/refcnt is a count or an error, never a
// negative number.
func FuzzRefcnt(f *testing.F) {
	for _, v := range []string{"0\n", "12", " 3 ", "-1", "x", "", "1 2"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		sys := t.TempDir()
		s := &System{SysRoot: sys}
		dir := s.sysPath("module", "m")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "refcnt"), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
		n, err := s.refcnt("m")
		if err != nil {
			if n != -1 {
				t.Fatalf("refcnt %q: error %v with count %d", v, err, n)
			}
			return
		}
		if want, aerr := strconv.Atoi(strings.TrimSpace(strings.TrimRight(v, "\n"))); aerr != nil || want != n || n < 0 {
			t.Fatalf("refcnt %q read as %d (strconv: %d, %v)", v, n, want, aerr)
		}
	})
}
