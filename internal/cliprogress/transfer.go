// SPDX-License-Identifier: Apache-2.0

package cliprogress

import (
	"fmt"
	"time"
)

// transfer is a download seen by Transfer: when its first event came and
// how many bytes it had then (a resumed file starts with some).
type transfer struct {
	start time.Time
	base  int64
}

// SetClock replaces the clock Transfer measures rates with (tests).
func (d *Display) SetClock(now func() time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.now = now
}

// Transfer shows done of total bytes of file on the terminal's bar, with
// the rate since the file's first event and, when total is known (> 0),
// the time left. On a plain stderr it shows nothing: a line per chunk is
// noise, and callers print the start and the end.
func (d *Display) Transfer(stage, file string, done, total int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now
	if d.now != nil {
		now = d.now
	}
	t := now()
	if d.transfers == nil {
		d.transfers = map[string]transfer{}
	}
	tr, ok := d.transfers[file]
	if !ok {
		tr = transfer{start: t, base: done}
		d.transfers[file] = tr
	}
	if !d.terminal || d.noSteps {
		return
	}
	// The bar counts KiB, so that sizes past 2 GiB fit an int anywhere.
	totalK := max(total>>10, 1)
	d.draw(stage, int(min(done>>10, totalK)), int(totalK), file+" "+TransferText(done, total, done-tr.base, t.Sub(tr.start)))
}

// TransferText describes a transfer for people: "1.0 MiB of 4.0 MiB,
// 512.0 KiB/s, 0:06 left". moved bytes took elapsed; the rate and the time
// left appear once a second has passed and bytes have moved.
func TransferText(done, total, moved int64, elapsed time.Duration) string {
	s := Size(done)
	if total > 0 {
		s += " of " + Size(total)
	}
	if elapsed < time.Second || moved <= 0 {
		return s
	}
	rate := float64(moved) / elapsed.Seconds()
	s += ", " + Size(int64(rate)) + "/s"
	if total > done {
		s += ", " + clockTime(time.Duration(float64(total-done)/rate*float64(time.Second))) + " left"
	}
	return s
}

// clockTime formats d as m:ss, or h:mm:ss from an hour on.
func clockTime(d time.Duration) string {
	sec := int64(d.Round(time.Second) / time.Second)
	if sec >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", sec/3600, sec/60%60, sec%60)
	}
	return fmt.Sprintf("%d:%02d", sec/60, sec%60)
}
