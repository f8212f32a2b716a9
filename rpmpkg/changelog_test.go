// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func changelogSpec(entries ...ChangelogEntry) Spec {
	return Spec{
		Name: "tool", Version: "1.2", Release: "1.ph5", Arch: "x86_64", Summary: "tool", License: "Apache-2.0",
		BuildTime: testEpoch, Changelog: entries,
		Files: []File{{Name: "/usr/bin/tool", Mode: 0o755, Body: []byte("#!/bin/sh\n")}},
	}
}

var (
	day1 = time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC)
	day2 = time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
)

func TestChangelogValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []ChangelogEntry
		want    string // "" = valid
	}{
		{"none", nil, ""},
		{"newest first", []ChangelogEntry{{day2, "A <a@x> 1.2-1", "- b"}, {day1, "A <a@x> 1.1-1", "- a"}}, ""},
		{"same day twice", []ChangelogEntry{{day2, "A 1.2-1", "- b"}, {day2.Add(time.Hour), "A 1.1-1", "- a"}}, ""},
		{"oldest first", []ChangelogEntry{{day1, "A 1.1-1", "- a"}, {day2, "A 1.2-1", "- b"}}, "newer than the entry before it"},
		{"no date", []ChangelogEntry{{time.Time{}, "A", "- a"}}, "not a 32-bit time"},
		{"no author", []ChangelogEntry{{day1, " ", "- a"}}, "one non-empty line"},
		{"two-line author", []ChangelogEntry{{day1, "A\nB", "- a"}}, "one non-empty line"},
		{"no text", []ChangelogEntry{{day1, "A", "\n"}}, "empty text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Write(&bytes.Buffer{}, changelogSpec(tc.entries...))
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrInvalidSpec), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// rpm shows the entries as written, newest first, and the time of day an
// entry carries does not change the bytes (stored as noon UTC, as rpmbuild).
func TestRPMToolChangelog(t *testing.T) {
	needTool(t, "rpm")
	s := changelogSpec(
		ChangelogEntry{day2, "Jo Admin <jo@example.org> 1.2-1", "- Second release.\n- Two lines."},
		ChangelogEntry{day1, "Jo Admin <jo@example.org> 1.1-1", "- First release."},
	)
	raw := writeBytes(t, s)
	file := filepath.Join(t.TempDir(), s.FileName())
	require.NoError(t, os.WriteFile(file, raw, 0o644))
	assert.Equal(t, "* Mon Dec 07 2026 Jo Admin <jo@example.org> 1.2-1\n- Second release.\n- Two lines.\n\n"+
		"* Tue Dec 01 2026 Jo Admin <jo@example.org> 1.1-1\n- First release.\n\n",
		runTool(t, "rpm", "-qp", "--changelog", file))
	assert.Contains(t, runTool(t, "rpm", "-K", file), "digests OK")

	s.Changelog[0].Time = day2.Add(5 * time.Hour)
	assert.Equal(t, raw, writeBytes(t, s), "the time of day is not stored")
}
