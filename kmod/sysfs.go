// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Every file kmod reads or writes under /sys and /proc (SysRoot,
// ProcRoot) is named and touched here: the paths, attribute reads and
// control writes, the questions Load, Unload and the retire steps ask of
// a module or a patch, and the listing (Livepatches, StalledTasks). The
// other files decide what to do with the answers; /proc/modules has its
// parser of its own (procmodules.go).

func (s *System) sysPath(elem ...string) string {
	return filepath.Join(append([]string{orDefault(s.SysRoot, "/sys")}, elem...)...)
}

func (s *System) procPath(elem ...string) string {
	return filepath.Join(append([]string{orDefault(s.ProcRoot, "/proc")}, elem...)...)
}

func (s *System) livepatchPath(elem ...string) string {
	return s.sysPath(append([]string{"kernel", "livepatch"}, elem...)...)
}

// taintFile is /sys/module/<name>/taint, for messages.
func (s *System) taintFile(name string) string { return s.sysPath("module", name, "taint") }

// readAttr reads a sysfs/procfs attribute without its trailing newline.
func (s *System) readAttr(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\n"), nil
}

// AttrWriter is implemented by a Kernel that also takes the writes to
// livepatch control files (enabled, force, signal). Those writes are kernel
// operations: on a real host they act before write(2) returns and fail with
// the kernel's errno. A fake kernel implements this to act the same way; the
// real one needs nothing, kmod then writes the file.
type AttrWriter interface {
	WriteAttr(path, value string) error
}

// writeAttr writes a livepatch control file through the Kernel when it takes
// such writes, else to the file.
func (s *System) writeAttr(path, value string) error {
	if w, ok := s.kernel().(AttrWriter); ok {
		return w.WriteAttr(path, value)
	}
	return writeAttr(path, value)
}

// writeAttr writes a sysfs attribute the way the kernel expects: one write,
// no truncation (sysfs ignores it), no create.
func writeAttr(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// HasLivepatch reports whether the kernel has CONFIG_LIVEPATCH.
func (s *System) HasLivepatch() bool {
	fi, err := os.Stat(s.livepatchPath())
	return err == nil && fi.IsDir()
}

// moduleLoaded reports whether /sys/module/<name> exists.
func (s *System) moduleLoaded(name string) bool {
	_, err := os.Stat(s.sysPath("module", name))
	return err == nil
}

// taintedLivepatch reports whether a loaded module carries the livepatch
// taint (K in /sys/module/<name>/taint): true for every livepatch module,
// enabled, disabled or replaced, and for nothing else.
func (s *System) taintedLivepatch(name string) bool {
	v, err := s.readAttr(s.sysPath("module", name, "taint"))
	return err == nil && strings.ContainsRune(v, 'K')
}

// refcnt returns /sys/module/<name>/refcnt; -1 with an error when unreadable.
func (s *System) refcnt(name string) (int, error) {
	v, err := s.readAttr(s.sysPath("module", name, "refcnt"))
	if err != nil {
		return -1, err
	}
	t := strings.TrimSpace(v)
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 || t[0] == '+' {
		return -1, fmt.Errorf("refcnt of %s: %q is not a reference count", name, v)
	}
	return n, nil
}

// readBool reads a 0/1 attribute; ok is false when it cannot be read.
func (s *System) readBool(path string) (on, ok bool) {
	v, err := s.readAttr(path)
	if err != nil {
		return false, false
	}
	return strings.TrimSpace(v) == "1", true
}

// kernelDecompresses reports whether /sys/module/compression names c: the
// kernel decompresses only the format it was built with (5.17+).
func (s *System) kernelDecompresses(c Compression) bool {
	v, err := s.readAttr(s.sysPath("module", "compression"))
	return err == nil && strings.TrimSpace(v) == c.String()
}

// modulesDisabled reports /proc/sys/kernel/modules_disabled set: no
// module loads until reboot.
func (s *System) modulesDisabled() bool {
	v, _ := s.readAttr(s.procPath("sys", "kernel", "modules_disabled"))
	return v == "1"
}

// lockedDown reports a kernel lockdown (integrity or confidentiality),
// which refuses unsigned modules.
func (s *System) lockedDown() bool {
	v, _ := s.readAttr(s.sysPath("kernel", "security", "lockdown"))
	return strings.Contains(v, "[integrity]") || strings.Contains(v, "[confidentiality]")
}

// patchRegistered reports that name has a directory under
// /sys/kernel/livepatch: the kernel holds it as a patch (enabled, in
// transition, or, before 5.1, disabled).
func (s *System) patchRegistered(name string) bool { return fileExists(s.livepatchPath(name)) }

// patchEnabled reports that name's sysfs directory reads enabled 1: the
// patch is live or on its way to being live.
func (s *System) patchEnabled(name string) bool {
	on, _ := s.readBool(s.livepatchPath(name, "enabled"))
	return on
}

// patchInactive reports that name patches nothing and is not on its way to:
// its directory is gone (5.1 and later free a disabled patch) or it reads
// enabled 0 outside a transition (before 5.1).
func (s *System) patchInactive(name string) bool {
	if _, err := os.Stat(s.livepatchPath(name)); os.IsNotExist(err) {
		return true
	}
	if s.patchEnabled(name) {
		return false
	}
	inTransition, ok := s.readBool(s.livepatchPath(name, "transition"))
	return ok && !inTransition
}

// patchInTransition reads name's transition file; ok is false when it
// cannot be read (no such patch).
func (s *System) patchInTransition(name string) (inTransition, ok bool) {
	return s.readBool(s.livepatchPath(name, "transition"))
}

// writeEnabled writes name's enabled file: the kernel starts the
// transition toward it before the write returns.
func (s *System) writeEnabled(name string, on bool) error {
	val := "0"
	if on {
		val = "1"
	}
	return s.writeAttr(s.livepatchPath(name, "enabled"), val)
}

// writeSignal writes 1 to name's signal file, which kernels from 4.15 to
// 5.0 have (later ones signal stalled tasks themselves); has is false,
// and nothing written, where there is none.
func (s *System) writeSignal(name string) (has bool, err error) {
	path := s.livepatchPath(name, "signal")
	if !fileExists(path) {
		return false, nil
	}
	return true, s.writeAttr(path, "1")
}

// Livepatch is a patch as /sys/kernel/livepatch/<name> shows it.
type Livepatch struct {
	Name       string `json:"name"`
	Enabled    bool   `json:"enabled"`
	Transition bool   `json:"transition"`
	// Replace is nil on kernels before 6.11, which do not show it.
	Replace *bool `json:"replace,omitempty"`
	// StackOrder is the 1-based stack position (6.14+); 0 when not shown.
	StackOrder int      `json:"stack_order,omitempty"`
	Objects    []Object `json:"objects"`
}

// Object is a patched object: vmlinux or a module.
type Object struct {
	Name string `json:"name"`
	// Patched is nil on kernels before 6.1.
	Patched   *bool      `json:"patched,omitempty"`
	Functions []Function `json:"functions"`
}

// Function is a patched function and its symbol position.
type Function struct {
	Name   string `json:"name"`
	Sympos int    `json:"sympos"`
}

// patchAttrs are the files of a patch directory that are not objects.
var patchAttrs = map[string]bool{"enabled": true, "transition": true, "signal": true, "force": true, "replace": true, "stack_order": true}

// Livepatches reads every patch under /sys/kernel/livepatch, sorted by name.
func (s *System) Livepatches() ([]Livepatch, error) {
	ents, err := os.ReadDir(s.livepatchPath())
	if err != nil {
		if os.IsNotExist(err) {
			return nil, ErrNoKernelLivepatch
		}
		return nil, err
	}
	var out []Livepatch
	for _, e := range ents {
		lp, err := s.Livepatch(e.Name())
		if err != nil {
			continue // vanished while reading
		}
		out = append(out, *lp)
	}
	return out, nil
}

// Livepatch reads one patch's sysfs state; os.ErrNotExist when it has none.
func (s *System) Livepatch(name string) (*Livepatch, error) {
	dir := s.livepatchPath(name)
	enabled, err := s.readAttr(filepath.Join(dir, "enabled"))
	if err != nil {
		return nil, err
	}
	lp := &Livepatch{Name: name, Enabled: strings.TrimSpace(enabled) == "1"}
	lp.Transition, _ = s.readBool(filepath.Join(dir, "transition"))
	if r, ok := s.readBool(filepath.Join(dir, "replace")); ok {
		lp.Replace = &r
	}
	if v, err := s.readAttr(filepath.Join(dir, "stack_order")); err == nil {
		lp.StackOrder, _ = strconv.Atoi(strings.TrimSpace(v))
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		if !e.IsDir() || patchAttrs[e.Name()] {
			continue
		}
		lp.Objects = append(lp.Objects, s.readObject(filepath.Join(dir, e.Name())))
	}
	return lp, nil
}

func (s *System) readObject(dir string) Object {
	obj := Object{Name: filepath.Base(dir), Functions: []Function{}}
	if p, ok := s.readBool(filepath.Join(dir, "patched")); ok {
		obj.Patched = &p
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		name, pos, ok := strings.Cut(e.Name(), ",")
		fn := Function{Name: name}
		if ok {
			fn.Sympos, _ = strconv.Atoi(pos)
		}
		obj.Functions = append(obj.Functions, fn)
	}
	return obj
}

// StalledTasks returns the tasks not yet in the target state of the patch
// in transition, whose enabled value is target: patch_state neither -1 nor
// target (kpatch's rule).
func (s *System) StalledTasks(target bool) []Task {
	want := "0"
	if target {
		want = "1"
	}
	files, _ := filepath.Glob(s.procPath("[0-9]*", "task", "[0-9]*", "patch_state"))
	var tasks []Task
	for _, f := range files {
		v, err := s.readAttr(f)
		v = strings.TrimSpace(v)
		if err != nil || v == "-1" || v == want {
			continue
		}
		taskDir := filepath.Dir(f)
		tid, _ := strconv.Atoi(filepath.Base(taskDir))
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(taskDir))))
		comm, _ := s.readAttr(filepath.Join(taskDir, "comm"))
		if comm == "" {
			comm, _ = s.readAttr(s.procPath(strconv.Itoa(pid), "comm"))
		}
		stack, _ := s.readAttr(filepath.Join(taskDir, "stack"))
		tasks = append(tasks, Task{PID: pid, TID: tid, Comm: comm, Stack: stack})
	}
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].TID < tasks[j].TID })
	return tasks
}

// inTransition returns the first patch whose transition is 1, or "".
func (s *System) inTransition() string {
	ents, _ := os.ReadDir(s.livepatchPath())
	for _, e := range ents {
		if t, _ := s.readBool(s.livepatchPath(e.Name(), "transition")); t {
			return e.Name()
		}
	}
	return ""
}

// Signal asks the kernel to send fake signals to the tasks holding up the
// patch in transition (4.15–5.0 kernels); later kernels do it themselves
// and Signal returns ErrUnsupported. ErrNotInTransition when none is.
func (s *System) Signal() (string, error) {
	p := s.inTransition()
	if p == "" {
		return "", ErrNotInTransition
	}
	has, err := s.writeSignal(p)
	if !has {
		return p, ErrUnsupported
	}
	if err != nil {
		return p, &OpError{Op: "write signal", Module: p, Err: err}
	}
	return p, nil
}

// Force forces the named patch (or, with "", the one in transition) to
// finish its transition. The module can never be removed afterwards.
func (s *System) Force(name string) (string, error) {
	if name == "" {
		name = s.inTransition()
	}
	name = ModuleName(name)
	if t, _ := s.readBool(s.livepatchPath(name, "transition")); name == "" || !t {
		return name, ErrNotInTransition
	}
	if err := s.writeAttr(s.livepatchPath(name, "force"), "1"); err != nil {
		return name, &OpError{Op: "write force", Module: name, Err: err}
	}
	return name, nil
}
