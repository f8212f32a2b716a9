package kmodtest

import (
	"fmt"
	"os"
	"strings"
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
	p := &patch{name: name, replace: spec.Replace, target: true, transition: true}
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

func (k *Kernel) tick() {
	for _, p := range append([]*patch(nil), k.patches...) {
		dir := k.patchDir(p.name)
		switch v := k.read(dir + "/enabled"); {
		case v == "0" && p.target, v == "1" && !p.target:
			// The kernel reverses a transition when the opposite value is
			// written during it, and starts unpatching on 0 otherwise.
			p.target = v == "1"
			if !p.transition {
				p.transition, p.ticks = true, 0
				k.put(dir+"/transition", "1")
			}
			k.updateTaskStates()
		}
		if k.read(dir+"/force") == "1" {
			k.put(dir+"/force", "0")
			if p.transition {
				if m := k.module(p.name); m != nil {
					m.forced = true
				}
				k.complete(p)
				continue
			}
		}
		if k.cfg.Signal && k.read(dir+"/signal") == "1" {
			k.put(dir+"/signal", "0")
			for _, t := range k.tasks {
				if t.WakesOnSignal {
					k.woken[t.PID] = true
				}
			}
			k.updateTaskStates()
		}
		if p.transition {
			p.ticks++
			if p.ticks >= k.cfg.TransitionTicks && !k.blocked(p) {
				k.complete(p)
			}
		}
	}
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
// replace patch) or unpatched (its directory goes, its reference drops).
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
