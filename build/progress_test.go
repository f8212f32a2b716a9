// SPDX-License-Identifier: Apache-2.0

package build

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/klpkit/klpkit"
)

func TestSerialProgress(t *testing.T) {
	assert.Nil(t, serialProgress(nil))
	var inside, overlaps, calls atomic.Int32
	p := serialProgress(func(klpkit.Progress) {
		if inside.Add(1) > 1 {
			overlaps.Add(1)
		}
		time.Sleep(time.Millisecond)
		calls.Add(1)
		inside.Add(-1)
	})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				p(Event{Stage: StageCompile}.progress())
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(40), calls.Load())
	assert.Zero(t, overlaps.Load(), "calls overlapped")
}

func TestEventAsProgress(t *testing.T) {
	e := Event{Stage: StageCompile, Message: "built a.o (vmlinux)", Done: 1, Total: 3}
	assert.Equal(t, klpkit.Progress{Op: klpkit.OpBuild, Step: "compile", Message: e.Message, Done: 1, Total: 3,
		Unit: klpkit.UnitObjects, Detail: e}, e.progress())
	assert.Equal(t, klpkit.UnitSteps, Event{Stage: StageLink, Total: 1}.progress().Unit)
}
