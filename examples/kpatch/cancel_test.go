// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"strings"
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

// The next command comes from the error's fields, not from the words of
// its state.
func TestWithNextFromFields(t *testing.T) {
	for _, tc := range []struct {
		ce   *kmod.CancelledError
		want string
	}{
		{&kmod.CancelledError{Op: "load", Module: "a", State: "a never reached the kernel", Next: "load it again", Loaded: false}, "kpatch load a.ko"},
		{&kmod.CancelledError{Op: "load", Module: "a", State: "a is not loaded (so far)", Next: "check", Loaded: true}, "kpatch list"},
		{&kmod.CancelledError{Op: "unload", Module: "a", State: "a is enabled again and loaded", Next: "unload it again", Loaded: true}, "kpatch unload a"},
		{&kmod.CancelledError{Op: "retire", Module: "cum", State: "...", Next: "unload p2, then p1", Loaded: true, Left: []string{"p2", "p1"}},
			"kpatch unload p2, then kpatch unload p1"},
	} {
		err := withNext(fmt.Errorf("x: %w", tc.ce), "a.ko")
		assert.True(t, strings.HasSuffix(err.Error(), "(next: "+tc.want+")"), "%s: %v", tc.ce.Op, err)
	}
}

// load --retire-older cancelled between two older patches says which to
// unload next.
func TestLoadRetireInterrupted(t *testing.T) {
	// Transitions of one second: p1's disable is under way long after p2
	// went, a window even a loaded machine does not miss.
	e := newCLI(t, &kmodtest.Config{Tick: 10 * time.Millisecond, TransitionTicks: 100})
	require.NoError(t, e.run("load", e.module(t, "p1.ko", "p1")))
	require.NoError(t, e.run("load", e.module(t, "p2.ko", "p2")))
	c, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		for c.Err() == nil {
			if loaded := e.k.Loaded(); len(loaded) == 2 && loaded[0] == "cum" && loaded[1] == "p1" {
				cancel()
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	err := e.a.dispatch(c, []string{"load", "--retire-older", e.module(t, "cum.ko", "cum")})
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, strings.HasSuffix(err.Error(), "(next: kpatch unload p1)"), err.Error())
	assert.Equal(t, []string{"cum", "p1"}, e.k.Loaded())
}
