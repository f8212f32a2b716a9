// SPDX-License-Identifier: Apache-2.0

//go:build linux

package build_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/rpmpkg"
)

// requireReproduced requires the module at path, built again from the
// inputs that gave first, to be byte-identical to it, and so the RPMs of
// both (with a fixed build time, as SOURCE_DATE_EPOCH fixes it): no work
// directory, time or other per-run value may reach the output. Nor may
// any of dirs, the directories the builds used.
func requireReproduced(t *testing.T, l *lab.Lab, first []byte, path string, dirs ...string) {
	t.Helper()
	again, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, dir := range dirs {
		require.False(t, bytes.Contains(again, []byte(dir)), "the module embeds %s", dir)
	}
	require.True(t, bytes.Equal(first, again), "two builds of the same inputs give different modules: %s", byteDiffs(first, again))
	rpm := func(ko []byte) []byte {
		var buf bytes.Buffer
		require.NoError(t, rpmpkg.Build(&buf, rpmpkg.Package{
			Name: "klpkit-lab", Kernel: l.KernelRelease, Dist: "ph5", Module: ko, BuildTime: time.Unix(1700000000, 0),
		}))
		return buf.Bytes()
	}
	a, b := rpm(first), rpm(again)
	require.True(t, bytes.Equal(a, b), "two builds of the same inputs give different RPMs: %s", byteDiffs(a, b))
}

// byteDiffs says where a and b differ: how many bytes, and the first few
// offsets with the bytes around them (a path shows as text).
func byteDiffs(a, b []byte) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d bytes against %d", len(a), len(b))
	}
	n := 0
	var where []string
	for i := range a {
		if a[i] == b[i] {
			continue
		}
		if n++; len(where) < 4 {
			lo, hi := max(i-24, 0), min(i+24, len(a))
			where = append(where, fmt.Sprintf("at %#x: %q against %q", i, a[lo:hi], b[lo:hi]))
		}
	}
	return fmt.Sprintf("%d bytes differ; %v", n, where)
}
