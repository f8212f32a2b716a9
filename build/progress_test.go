// SPDX-License-Identifier: Apache-2.0

package build

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSerialProgress(t *testing.T) {
	assert.Nil(t, serialProgress(nil))
	var inside, overlaps, calls atomic.Int32
	p := serialProgress(func(Event) {
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
				p(Event{Stage: StageCompile})
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(40), calls.Load())
	assert.Zero(t, overlaps.Load(), "calls overlapped")
}
