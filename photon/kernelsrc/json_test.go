// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/klpkit/klpkit"
)

func TestEventsAsProgress(t *testing.T) {
	cases := []struct {
		ev          DownloadEvent
		step, msg   string
		done, total int64
	}{
		{DownloadEvent{File: "a.rpm", Total: 10}, "start", "downloading a.rpm", 0, 10},
		{DownloadEvent{File: "a.rpm", Bytes: 4, Total: 10}, "bytes", "", 4, 10},
		{DownloadEvent{File: "a.rpm", Bytes: 10, Total: 10, Done: true}, "done", "downloaded a.rpm", 10, 10},
		{DownloadEvent{File: "a.rpm", Attempt: 1, Total: -1, Retry: errors.New("reset")}, "retry", "retrying a.rpm (attempt 2): reset", 0, -1},
	}
	for _, c := range cases {
		p := c.ev.progress()
		assert.Equal(t, klpkit.Progress{Op: klpkit.OpDownload, Step: c.step, Subject: "a.rpm", Message: c.msg,
			Done: c.done, Total: c.total, Unit: klpkit.UnitBytes, Detail: c.ev}, p)
	}
}
