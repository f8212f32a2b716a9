// SPDX-License-Identifier: Apache-2.0

package kmod_test

import (
	"context"
	"testing"
	"time"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/stretchr/testify/require"
)

// env is a fake kernel, a System on it and a directory for module files.
type env struct {
	k   *kmodtest.Kernel
	sys *kmod.System
	dir string
}

func newEnv(t *testing.T, cfg *kmodtest.Config) *env {
	t.Helper()
	k := kmodtest.New(t, cfg)
	return &env{k: k, sys: k.System(), dir: t.TempDir()}
}

// module writes a livepatch module file for the fake kernel's release.
func (e *env) module(t *testing.T, file, name string) string {
	t.Helper()
	p, err := kmodtest.WriteModule(e.dir, file, kmodtest.ModuleSpec{Name: name, Livepatch: true})
	require.NoError(t, err)
	return p
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func loadOpts(events *[]kmod.Event) *kmod.LoadOptions {
	o := &kmod.LoadOptions{Timing: kmodtest.FastTiming()}
	if events != nil {
		o.Progress = klpkit.On(func(ev kmod.Event) { *events = append(*events, ev) })
	}
	return o
}

func unloadOpts(events *[]kmod.Event) *kmod.UnloadOptions {
	o := &kmod.UnloadOptions{Timing: kmodtest.FastTiming()}
	if events != nil {
		o.Progress = klpkit.On(func(ev kmod.Event) { *events = append(*events, ev) })
	}
	return o
}

func kinds(events []kmod.Event) []kmod.EventKind {
	var out []kmod.EventKind
	for _, e := range events {
		out = append(out, e.Kind)
	}
	return out
}
