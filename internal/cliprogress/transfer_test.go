// SPDX-License-Identifier: Apache-2.0

package cliprogress

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestTransferText(t *testing.T) {
	for _, tc := range []struct {
		done, total, moved int64
		elapsed            time.Duration
		want               string
	}{
		{0, 4 << 20, 0, 0, "0 B of 4.0 MiB"},
		{1 << 20, 4 << 20, 1 << 20, 500 * time.Millisecond, "1.0 MiB of 4.0 MiB"}, // too early for a rate
		{1 << 20, 4 << 20, 1 << 20, 2 * time.Second, "1.0 MiB of 4.0 MiB, 512.0 KiB/s, 0:06 left"},
		{3 << 20, 4 << 20, 1 << 20, 2 * time.Second, "3.0 MiB of 4.0 MiB, 512.0 KiB/s, 0:02 left"}, // resumed at 2 MiB
		{1 << 20, -1, 1 << 20, 4 * time.Second, "1.0 MiB, 256.0 KiB/s"},                            // size unknown: no time left
		{4 << 20, 4 << 20, 4 << 20, 4 * time.Second, "4.0 MiB of 4.0 MiB, 1.0 MiB/s"},
		{1 << 20, 8 << 30, 1 << 20, 1 * time.Second, "1.0 MiB of 8192.0 MiB, 1.0 MiB/s, 2:16:31 left"},
	} {
		assert.Equal(t, tc.want, TransferText(tc.done, tc.total, tc.moved, tc.elapsed))
	}
}

func TestTransferOnTerminal(t *testing.T) {
	var out, errs strings.Builder
	d := New(&out, &errs, true)
	at := time.Unix(0, 0)
	d.SetClock(func() time.Time { return at })
	d.Transfer("fetch", "x.rpm", 1<<20, 4<<20) // resumed: 1 MiB was there
	at = at.Add(2 * time.Second)
	d.Transfer("fetch", "x.rpm", 2<<20, 4<<20)
	d.Finish()
	assert.Equal(t, "[=====>              ] fetch   x.rpm 1.0 MiB of 4.0 MiB"+
		"\r\033[K[==========>         ] fetch   x.rpm 2.0 MiB of 4.0 MiB, 512.0 KiB/s, 0:04 left\r\033[K", errs.String())

	errs.Reset()
	plain := New(&out, &errs, false)
	plain.Transfer("fetch", "x.rpm", 1<<20, 4<<20)
	assert.Empty(t, errs.String(), "no line per chunk on a plain stderr")
}
