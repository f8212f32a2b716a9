// SPDX-License-Identifier: Apache-2.0

package build

import (
	"sync"

	"github.com/klpkit/klpkit"
)

// serialProgress returns p with its calls serialized (nil for nil): the
// compile stage reports from its workers, and Options.Progress promises
// never to be called concurrently.
func serialProgress(p klpkit.ProgressFunc) klpkit.ProgressFunc {
	if p == nil {
		return nil
	}
	var mu sync.Mutex
	return func(r klpkit.Progress) {
		mu.Lock()
		defer mu.Unlock()
		p(r)
	}
}

// progress is e as a report: the compile and diff stages count objects,
// the others their start (0 of 1) and end (1 of 1).
func (e Event) progress() klpkit.Progress {
	unit := klpkit.UnitSteps
	if e.Stage == StageCompile || e.Stage == StageDiff {
		unit = klpkit.UnitObjects
	}
	return klpkit.Progress{Op: klpkit.OpBuild, Step: string(e.Stage), Message: e.Message,
		Done: int64(e.Done), Total: int64(e.Total), Unit: unit, Detail: e}
}
