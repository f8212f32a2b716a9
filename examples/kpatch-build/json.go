// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"strings"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/clijson"
)

// progress returns build.Options.Progress: kpatch-build's status lines on
// a.status, and on stderr either the progress display or, with
// --json-events, one JSON line per event. It sets a.finish.
func (a *app) progress(o *options) klpkit.ProgressFunc {
	var events *clijson.Events
	prog := newProgress(a.status, a.stderr, a.terminal && !o.jsonEvents)
	if o.jsonEvents {
		events = clijson.NewEvents(a.stderr, a.now)
		prog.HideSteps()
	}
	a.finish = prog.finish
	return klpkit.On(func(e build.Event) {
		if a.clock != nil {
			a.clock.Stage(string(e.Stage))
		}
		events.Emit("build", e)
		prog.event(e)
	})
}

// unsupported refuses upstream kpatch-build's options that klpkit cannot
// honour, each saying what to do instead, rather than ignoring them.
func (o *options) unsupported() error {
	switch {
	case o.sourceRPM != "":
		return fmt.Errorf("-r/--sourcerpm %s: building from a kernel source RPM is not supported: prepare the tree and give it with -s (for a Photon kernel, auto_livepatch -s %s -k <release> builds from its source RPM)", o.sourceRPM, o.sourceRPM)
	case len(o.targets) > 0:
		return fmt.Errorf("-t/--target %s: custom make targets are not supported: only the objects the patches touch are compiled, and the tree is never built whole", strings.Join(o.targets, " "))
	}
	return nil
}
