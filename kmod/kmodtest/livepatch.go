// SPDX-License-Identifier: Apache-2.0

package kmodtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// run is the fake kernel's clock: each tick it reads what user space wrote
// to enabled, force and signal, and moves transitions on.
func (k *Kernel) run() {
	defer close(k.done)
	t := time.NewTicker(k.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
			k.mu.Lock()
			k.tick()
			k.mu.Unlock()
		}
	}
}

func (k *Kernel) patchDir(name string) string { return "sys/kernel/livepatch/" + name }

// addPatch registers the sysfs directory of a freshly loaded livepatch and
// starts its patching transition.
func (k *Kernel) addPatch(name string) {
	spec, ok := k.specs[name]
	if !ok || spec.Objects == nil {
		spec.Objects = map[string][]string{"vmlinux": {"cmdline_proc_show"}}
	}
	p := &patch{name: name, replace: spec.Replace && !k.legacy, target: true, transition: true}
	k.patches = append(k.patches, p)
	// Build the directory aside and rename it into place: sysfs shows a
	// patch whole, never half made. Tasks get their state first.
	k.updateTaskStates()
	stage := ".stage-" + name
	k.put(stage+"/enabled", "1")
	k.put(stage+"/transition", "1")
	k.put(stage+"/force", "0")
	if k.cfg.Signal {
		k.put(stage+"/signal", "0")
	}
	if k.cfg.ReplaceAttr {
		k.put(stage+"/replace", map[bool]string{false: "0", true: "1"}[spec.Replace])
	}
	if k.cfg.StackOrder {
		k.put(stage+"/stack_order", fmt.Sprint(len(k.patches)))
	}
	for _, obj := range sortedObjects(spec) {
		k.put(stage+"/"+obj+"/patched", "1")
		for _, fn := range spec.Objects[obj] {
			os.MkdirAll(k.path(stage+"/"+obj+"/"+fn+",1"), 0o755)
		}
	}
	os.Rename(k.path(stage), k.path(k.patchDir(name)))
}

// read returns a file's trimmed contents ("" when unreadable).
func (k *Kernel) read(rel string) string {
	b, _ := os.ReadFile(k.path(rel))
	return strings.TrimSpace(string(b))
}

// tick applies what tests wrote to control files by hand (kmod writes
// through WriteAttr) and moves transitions on.
func (k *Kernel) tick() {
	for _, p := range append([]*patch(nil), k.patches...) {
		dir := k.patchDir(p.name)
		// Only a whole value counts: a write by hand may be half done.
		if v := k.read(dir + "/enabled"); (v == "0" || v == "1") && v != onOff(p.target) {
			if k.store(p, "enabled", v) != nil {
				k.put(dir+"/enabled", onOff(p.target)) // the write failed
			}
		}
		for _, attr := range []string{"force", "signal"} {
			if k.read(dir+"/"+attr) == "1" {
				k.put(dir+"/"+attr, "0")
				k.store(p, attr, "1")
			}
		}
		if k.patch(p.name) == nil {
			continue // forced away
		}
		if p.transition {
			p.ticks++
			if p.ticks >= k.cfg.TransitionTicks && !k.blocked(p) {
				k.complete(p)
			}
		}
	}
}

// WriteAttr implements kmod.AttrWriter: a write to a patch's enabled, force
// or signal file acts at once and fails as the kernel's would.
func (k *Kernel) WriteAttr(path, value string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	rel, err := filepath.Rel(k.Root, path)
	parts := strings.Split(filepath.ToSlash(rel), "/")
	if err != nil || len(parts) != 5 || strings.Join(parts[:3], "/") != "sys/kernel/livepatch" {
		return os.WriteFile(path, []byte(value), 0o644)
	}
	p := k.patch(parts[3])
	if p == nil {
		return syscall.ENOENT
	}
	k.calls = append(k.calls, fmt.Sprintf("write %s/%s=%s", p.name, parts[4], value))
	if parts[4] == "enabled" {
		op := map[bool]string{false: "disable", true: "enable"}[strings.TrimSpace(value) == "1"]
		if err := k.failure(op); err != nil {
			return err
		}
	}
	return k.store(p, parts[4], strings.TrimSpace(value))
}

// store is the kernel's side of a write to one of p's control files.
func (k *Kernel) store(p *patch, attr, v string) error {
	if v != "0" && v != "1" {
		return syscall.EINVAL
	}
	on := v == "1"
	switch attr {
	case "enabled":
		if on == p.target {
			return syscall.EINVAL // already in the requested state
		}
		if !p.transition {
			// Not a reversal: a fresh enable or disable.
			if why := k.refuse(p, on); why != "" {
				k.rejected = append(k.rejected, fmt.Sprintf("enabled %s=%s: %s", p.name, v, why))
				return syscall.EBUSY
			}
			p.transition, p.ticks = true, 0
			k.put(k.patchDir(p.name)+"/transition", "1")
			if on {
				k.setRefcnt(p.name, 1) // try_module_get on enable
			}
		}
		p.target = on
		k.put(k.patchDir(p.name)+"/enabled", v)
		k.updateTaskStates()
	case "force":
		if !on {
			return nil
		}
		if !p.transition {
			return syscall.EINVAL
		}
		if m := k.module(p.name); m != nil {
			m.forced = true
		}
		k.complete(p)
	case "signal":
		if !k.cfg.Signal {
			return syscall.ENOENT
		}
		if !on {
			return nil
		}
		if !p.transition {
			return syscall.EINVAL
		}
		for _, t := range k.tasks {
			if t.WakesOnSignal {
				k.woken[t.PID] = true
			}
		}
		k.updateTaskStates()
	default:
		return syscall.EACCES
	}
	return nil
}

func onOff(b bool) string { return map[bool]string{false: "0", true: "1"}[b] }

// refuse says why the kernel would answer EBUSY to enabling (on) or
// disabling p outside its own transition, or "" when it would not.
func (k *Kernel) refuse(p *patch, on bool) string {
	for _, q := range k.patches {
		if q.transition {
			return q.name + " is in transition"
		}
	}
	if !k.legacy {
		return ""
	}
	for i, q := range k.patches {
		if q != p {
			continue
		}
		if !on && i+1 < len(k.patches) && k.patches[i+1].target {
			return k.patches[i+1].name + " above it is enabled"
		}
		if on && i > 0 && !k.patches[i-1].target {
			return k.patches[i-1].name + " below it is disabled"
		}
	}
	return ""
}

// blocked reports a stubborn task holding up p's transition to patched.
func (k *Kernel) blocked(p *patch) bool {
	if !p.target {
		return false
	}
	for _, t := range k.tasks {
		if t.Stubborn && !k.woken[t.PID] {
			return true
		}
	}
	return false
}

// complete ends p's transition: patched (replacing older patches if p is a
// replace patch) or unpatched (its reference drops; since 5.1 its directory
// goes too, before it a disabled patch stays until its module is removed).
func (k *Kernel) complete(p *patch) {
	p.transition = false
	dir := k.patchDir(p.name)
	if p.target {
		// Replaced patches go first so that no reader sees the transition
		// done while they are still listed.
		if p.replace {
			for _, old := range append([]*patch(nil), k.patches...) {
				if old != p {
					k.removePatch(old)
				}
			}
		}
		k.put(dir+"/transition", "0")
	} else if k.legacy {
		// The reference drops before the transition reads done.
		if m := k.module(p.name); m != nil && !m.forced {
			k.setRefcnt(p.name, 0)
		}
		k.put(dir+"/transition", "0")
	} else {
		k.removePatch(p)
	}
	k.updateTaskStates()
}

func (k *Kernel) removePatch(p *patch) {
	for i, q := range k.patches {
		if q == p {
			k.patches = append(k.patches[:i], k.patches[i+1:]...)
			break
		}
	}
	k.vanish(k.patchDir(p.name))
	if m := k.module(p.name); m != nil && !m.forced {
		k.setRefcnt(p.name, 0)
	}
	if k.cfg.StackOrder {
		for i, q := range k.patches {
			k.put(k.patchDir(q.name)+"/stack_order", fmt.Sprint(i+1))
		}
	}
}

// updateTaskStates writes every task's patch_state: -1 outside a
// transition, else the target state, or the old one for a task holding it up.
func (k *Kernel) updateTaskStates() {
	var cur *patch
	for _, p := range k.patches {
		if p.transition {
			cur = p
		}
	}
	for _, t := range k.tasks {
		state := "-1"
		if cur != nil {
			target := map[bool]string{false: "0", true: "1"}[cur.target]
			state = target
			if cur.target && t.Stubborn && !k.woken[t.PID] {
				state = "0"
			}
		}
		k.put(fmt.Sprintf("proc/%d/task/%d/patch_state", t.PID, t.PID), state)
	}
}
