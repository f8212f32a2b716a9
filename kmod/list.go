// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"errors"
	"fmt"
	"strings"
)

// Listing is what List reports.
type Listing struct {
	// Loaded are the patches in /sys/kernel/livepatch (empty on a kernel
	// without livepatch).
	Loaded []Livepatch `json:"loaded"`
	// Replaced are livepatch modules still loaded after a cumulative patch
	// replaced them; they can be unloaded without a disable.
	Replaced []string `json:"replaced"`
	// Stalled are the tasks holding up the patch now in transition.
	Stalled []Task `json:"stalled"`
	// InTransition names the patch in transition, if any.
	InTransition string `json:"in_transition,omitempty"`
	// Installed are the modules in the stores, every kernel version.
	Installed []Installed `json:"installed"`
}

// List reports loaded livepatches with their state, and installed modules.
func (s *System) List() (*Listing, error) {
	l := &Listing{Loaded: []Livepatch{}, Replaced: []string{}, Stalled: []Task{}}
	lps, err := s.Livepatches()
	if err != nil && !errors.Is(err, ErrNoKernelLivepatch) {
		return nil, err
	}
	if lps != nil {
		l.Loaded = lps
	}
	live := map[string]bool{}
	for _, lp := range l.Loaded {
		live[lp.Name] = true
		if lp.Transition && l.InTransition == "" {
			l.InTransition = lp.Name
			if st := s.StalledTasks(lp.Enabled); st != nil {
				l.Stalled = st
			}
		}
	}
	if mods, err := s.Modules(); err == nil {
		for _, m := range mods {
			if m.Livepatch() && !live[m.Name] {
				l.Replaced = append(l.Replaced, m.Name)
			}
		}
	}
	inst, err := s.Installed("")
	if err != nil {
		return nil, err
	}
	l.Installed = inst
	if l.Installed == nil {
		l.Installed = []Installed{}
	}
	return l, nil
}

// Info reads a module: target is a path to a module file, or the name of a
// module installed for the running kernel (either spelling).
func (s *System) Info(target string) (*Module, error) {
	if strings.ContainsRune(target, '/') || fileExists(target) {
		return ReadModule(target)
	}
	rel, err := s.Release()
	if err != nil {
		return nil, fmt.Errorf("kernel release: %w", err)
	}
	found, err := s.FindInstalled(target, rel)
	if err != nil {
		return nil, err
	}
	return ReadModule(found[0].Path)
}
