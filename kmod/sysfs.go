// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

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

func (s *System) readBool(path string) (bool, bool) {
	v, err := s.readAttr(path)
	if err != nil {
		return false, false
	}
	return strings.TrimSpace(v) == "1", true
}

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
	path := s.livepatchPath(p, "signal")
	if _, err := os.Stat(path); err != nil {
		return p, ErrUnsupported
	}
	if err := s.writeAttr(path, "1"); err != nil {
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
