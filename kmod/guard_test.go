// SPDX-License-Identifier: Apache-2.0

package kmod_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
)

// loadPlainModule loads a module that is not a livepatch (a driver, say)
// into the fake kernel, as modprobe would.
func loadPlainModule(t *testing.T, e *env, name string) {
	t.Helper()
	p, err := kmodtest.WriteModule(e.dir, name+".ko", kmodtest.ModuleSpec{Name: name})
	require.NoError(t, err)
	_, err = e.sys.Load(ctx(t), p, &kmod.LoadOptions{Force: true, Timing: kmodtest.FastTiming()})
	require.NoError(t, err)
	require.Contains(t, e.k.Loaded(), name)
}

func TestUnloadRefusesAModuleThatIsNotALivepatch(t *testing.T) {
	e := newEnv(t, nil)
	loadPlainModule(t, e, "e1000")
	_, err := e.sys.Unload(ctx(t), "e1000", &kmod.UnloadOptions{Timing: kmodtest.FastTiming()})
	require.ErrorIs(t, err, kmod.ErrNotLivepatch)
	assert.Contains(t, err.Error(), "e1000 is loaded but is not a livepatch module")
	assert.Contains(t, e.k.Loaded(), "e1000", "the driver stays loaded")

	_, err = e.sys.Unload(ctx(t), "e1000", &kmod.UnloadOptions{AnyModule: true, Timing: kmodtest.FastTiming()})
	require.NoError(t, err, "AnyModule removes it on purpose")
	assert.NotContains(t, e.k.Loaded(), "e1000")
}

func TestLoadNeverRemovesASameNamedModule(t *testing.T) {
	e := newEnv(t, nil)
	loadPlainModule(t, e, "livepatch_fix")
	_, err := e.sys.Load(ctx(t), e.module(t, "livepatch-fix.ko", "livepatch_fix"), &kmod.LoadOptions{Timing: kmodtest.FastTiming()})
	require.ErrorIs(t, err, kmod.ErrAlreadyLoaded)
	assert.Contains(t, err.Error(), "not a livepatch is loaded")
	assert.Contains(t, e.k.Loaded(), "livepatch_fix", "the other module stays loaded")
}
