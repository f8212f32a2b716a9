// SPDX-License-Identifier: Apache-2.0

package klpkit_test

import (
	"encoding/json"
	"go/build"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/kmod"
)

func TestOnPicksItsType(t *testing.T) {
	var got []kmod.Event
	f := klpkit.On(func(ev kmod.Event) { got = append(got, ev) })
	f(klpkit.Progress{Op: klpkit.OpLoad, Detail: kmod.Event{Kind: kmod.EventLoading, Module: "a"}})
	f(klpkit.Progress{Op: klpkit.OpSource, Step: "fetch"})
	f(klpkit.Progress{Op: klpkit.OpLoad, Detail: &kmod.Event{Module: "pointer"}})
	assert.Equal(t, []kmod.Event{{Kind: kmod.EventLoading, Module: "a"}}, got)
	assert.Nil(t, klpkit.On[kmod.Event](nil))
}

func TestProgressJSON(t *testing.T) {
	b, err := json.Marshal(klpkit.Progress{Op: klpkit.OpLoad, Step: "transition-done", Subject: "a", Message: "done",
		Detail: kmod.Event{Kind: kmod.EventTransition, Module: "a"}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"op":"load","step":"transition-done","subject":"a","message":"done","done":0,"total":0,"unit":"",
		"detail":{"kind":"transition-done","module":"a","path":"","attempt":0,"elapsed_ns":0,"tasks":[],"automatic":false}}`, string(b))
}

// TestRootImportsStdlibOnly: every klpkit package imports the root for
// Progress, photon's kernel model included, which must pull in nothing
// beyond the standard library.
func TestRootImportsStdlibOnly(t *testing.T) {
	pkg, err := build.Default.ImportDir(".", 0)
	require.NoError(t, err)
	require.NotEmpty(t, pkg.GoFiles)
	for _, imp := range pkg.Imports {
		first, _, _ := strings.Cut(imp, "/")
		assert.NotContains(t, first, ".", "the root package imports %s", imp)
	}
}
