package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/kmod"
	"github.com/klpkit/klpkit/kmod/kmodtest"
)

// Ctrl-C during an unload's transition: the patch is enabled again, and
// the message says so and which command to run next.
func TestUnloadInterrupted(t *testing.T) {
	e := newCLI(t, &kmodtest.Config{Tick: 10 * time.Millisecond, TransitionTicks: 30})
	require.NoError(t, e.run("load", e.module(t, "a.ko", "a")))
	c, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		// Cancel once the disable is under way.
		for c.Err() == nil {
			if lp, err := e.a.sys.Livepatch("a"); err == nil && !lp.Enabled && lp.Transition {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	err := e.a.dispatch(c, []string{"unload", "a"})
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, kmod.ErrTransitionStalled)
	assert.Equal(t, "failed to unload module a: unload of a cancelled (context canceled): a is enabled again and loaded; "+
		"unload it again to remove it (next: kpatch unload a)", err.Error())
	require.NoError(t, e.run("list"))
	assert.Contains(t, e.out.String(), "a [enabled]\n")
}

// A load interrupted before it reached the kernel says nothing was loaded.
func TestLoadInterruptedBeforeTheKernel(t *testing.T) {
	e := newCLI(t, nil)
	path := e.module(t, "a.ko", "a")
	c, cancel := context.WithCancel(t.Context())
	cancel()
	err := e.a.dispatch(c, []string{"load", path})
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "a is not loaded; load it again to apply the patch (next: kpatch load "+path+")")
	assert.Empty(t, e.k.Calls())
}
