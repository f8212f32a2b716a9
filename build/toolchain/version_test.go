// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int // sign
	}{
		{"1.0", "1.0", 0},
		{"1.0", "1.1", -1},
		{"1.10", "1.9", 1},
		{"1.0~rc1", "1.0", -1},
		{"1.0~rc1", "1.0~rc2", -1},
		{"1.0~~", "1.0~", -1},
		{"1.0", "1.0+b1", -1},
		{"1.0a", "1.0+", -1}, // letters sort before other characters
		{"1:1.0", "2.0", 1},  // the epoch first
		{"0:1.0", "1.0", 0},
		{"2.31-13+deb11u14", "2.31-13+deb11u11", 1},
		{"2.31-13+deb11u9", "2.31-13+deb11u11", -1},
		{"10.2.1-6", "10.2.1-6", 0},
		{"10.2.1-6", "10.2.1-06", 0},
		{"5.2.5-2.1~deb11u2", "5.2.5-2.1", -1},
		{"1.0-1", "1.0", 1}, // a revision beats none
		{"1.0", "1.0-0", 0},
		{"0.5.11+git20200708+dd9ef66-5", "0.5.11+git20200708+dd9ef66-5", 0},
		{"1-2-3", "1-2-4", -1}, // the revision is after the last '-'
		{"12345678901234567890", "12345678901234567891", -1},
	} {
		got := CompareVersions(tc.a, tc.b)
		assert.Equal(t, tc.want, sign(got), "%s vs %s", tc.a, tc.b)
		assert.Equal(t, -tc.want, sign(CompareVersions(tc.b, tc.a)), "%s vs %s", tc.b, tc.a)
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
