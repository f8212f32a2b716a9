// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSlotQueueOrder: commands queued together start costliest first, ties
// in the order they were queued, never more than the slots at once.
func TestSlotQueueOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		slots int
		costs []int64
		want  []int // indexes of costs, in start order
	}{
		{"one slot", 1, []int64{22, 88, 50, 35}, []int{1, 2, 3, 0}},
		{"two slots", 2, []int64{22, 88, 50, 35, 20}, []int{1, 2, 3, 0, 4}},
		{"ties keep queue order", 1, []int64{5, 7, 5, 7}, []int{1, 3, 0, 2}},
		{"more slots than commands", 4, []int64{1, 3, 2}, []int{1, 2, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := newSlotQueue(tc.slots)
			q.hold()
			var (
				mu      sync.Mutex
				order   []int
				running int
				peak    int
				wg      sync.WaitGroup
			)
			tickets := make([]*slotTicket, len(tc.costs))
			for i, c := range tc.costs {
				tickets[i] = q.ticket(c)
			}
			// Each command ends only when the next in line could start,
			// so the start order is the grant order.
			for i, tk := range tickets {
				wg.Add(1)
				go func() {
					defer wg.Done()
					require.NoError(t, tk.run(t.Context(), func() error {
						mu.Lock()
						order = append(order, i)
						running++
						peak = max(peak, running)
						mu.Unlock()
						time.Sleep(10 * time.Millisecond)
						mu.Lock()
						running--
						mu.Unlock()
						return nil
					}))
				}()
			}
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			assert.Empty(t, order, "nothing starts while the queue is held")
			mu.Unlock()
			q.resume()
			wg.Wait()
			// With several slots, commands granted together may start in
			// either order: compare the grant rounds.
			if tc.slots == 1 {
				assert.Equal(t, tc.want, order)
			} else {
				n := min(tc.slots, len(tc.want))
				assert.ElementsMatch(t, tc.want[:n], order[:n])
			}
			assert.LessOrEqual(t, peak, tc.slots)
			assert.Equal(t, tc.slots, q.free, "every slot is given back")
		})
	}
}

// TestSlotQueueCancel: a command whose context ends while it waits does
// not run and gives up its place; a slot given meanwhile is passed on.
func TestSlotQueueCancel(t *testing.T) {
	q := newSlotQueue(1)
	hold := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_ = q.do(t.Context(), 1, func() error { close(started); <-hold; return nil })
	}()
	<-started
	ctx, cancel := context.WithCancel(t.Context())
	waiting := q.ticket(100)
	errc := make(chan error, 1)
	go func() { errc <- waiting.run(ctx, func() error { t.Error("ran after its context ended"); return nil }) }()
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)
	close(hold)
	require.NoError(t, q.do(t.Context(), 0, func() error { return nil }), "the slot is free again")
	assert.Equal(t, 1, q.free)
	assert.Empty(t, q.waiting)
}
