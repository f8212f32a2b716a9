// SPDX-License-Identifier: Apache-2.0

package build

import "sync"

// serialProgress returns p with its calls serialized (nil for nil): the
// compile stage reports from its workers, and Options.Progress promises
// never to be called concurrently.
func serialProgress(p func(Event)) func(Event) {
	if p == nil {
		return nil
	}
	var mu sync.Mutex
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		p(e)
	}
}
