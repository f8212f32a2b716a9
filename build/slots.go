// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// slotQueue hands the Jobs command slots of a build to the waiting command
// with the highest cost first (ties: the first to ask). A build's wall time
// is that of its longest chain, so the longest compiles start first and
// short ones fill in beside them: with kernel/fork.c's compile last in
// line, a three-object patch waited for it alone on one of two cores.
// While held, no slot is given, so that a batch of commands asked for
// together starts in cost order rather than in the order they were asked.
type slotQueue struct {
	mu      sync.Mutex
	free    int
	held    bool
	waiting []*slotTicket
}

// slotTicket is one command's place in the queue; run it exactly once.
type slotTicket struct {
	q     *slotQueue
	cost  int64
	ready chan struct{} // closed when the slot is given
}

func newSlotQueue(n int) *slotQueue { return &slotQueue{free: max(1, n)} }

// ticket queues a command of the given cost and returns its ticket. The
// place is taken now, in the caller's order, not when run is called.
func (q *slotQueue) ticket(cost int64) *slotTicket {
	t := &slotTicket{q: q, cost: cost, ready: make(chan struct{})}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.waiting = append(q.waiting, t)
	q.grantLocked()
	return t
}

// do runs f holding a slot, queued at cost.
func (q *slotQueue) do(ctx context.Context, cost int64, f func() error) error {
	return q.ticket(cost).run(ctx, f)
}

// hold stops giving slots until resume.
func (q *slotQueue) hold() {
	q.mu.Lock()
	q.held = true
	q.mu.Unlock()
}

// resume gives the free slots to the costliest waiting commands.
func (q *slotQueue) resume() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.held = false
	q.grantLocked()
}

func (q *slotQueue) grantLocked() {
	for !q.held && q.free > 0 && len(q.waiting) > 0 {
		best := 0
		for i, t := range q.waiting {
			if t.cost > q.waiting[best].cost {
				best = i
			}
		}
		t := q.waiting[best]
		q.waiting = slices.Delete(q.waiting, best, best+1)
		q.free--
		close(t.ready)
	}
}

func (q *slotQueue) release() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.free++
	q.grantLocked()
}

// run waits for the ticket's slot, runs f and gives the slot back. When
// ctx ends first, f does not run.
func (t *slotTicket) run(ctx context.Context, f func() error) error {
	select {
	case <-t.ready:
	case <-ctx.Done():
		t.q.mu.Lock()
		if i := slices.Index(t.q.waiting, t); i >= 0 {
			t.q.waiting = slices.Delete(t.q.waiting, i, i+1)
			t.q.mu.Unlock()
			return ctx.Err()
		}
		t.q.mu.Unlock()
		<-t.ready // given meanwhile: pass it on
		t.q.release()
		return ctx.Err()
	}
	defer t.q.release()
	return f()
}

// Relative costs of a unit's commands, for the order only. A compile costs
// about the size of its source (the headers weigh the same for the units
// of one kernel); kbuild's CRC input, the source preprocessed for
// genksyms, took 40% of the compile of the same source on the lab kernel
// (kernel/fork.c 2.1 s against 4.9 s, kernel/exit.c 1.4 s against 3.3 s).
const (
	minUnitCost = 1 << 10
	crcCostPct  = 40
)

// unitCost estimates what compiling the tree's source src costs.
func unitCost(tree, src string) int64 {
	if st, err := os.Stat(filepath.Join(tree, src)); err == nil {
		return max(minUnitCost, st.Size())
	}
	return minUnitCost
}
