// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/rpmpack"
)

// rpm's changelog tags (rpmtag.h): three parallel arrays, newest first.
const (
	tagChangelogTime = 1080
	tagChangelogName = 1081
	tagChangelogText = 1082
)

// ChangelogEntry is one %changelog entry, as `rpm -q --changelog` shows it:
// "* <date> <Author>" then Text.
type ChangelogEntry struct {
	// Time is the entry's date; rpm shows the day only. rpmbuild stores
	// noon UTC of the spec's date, and Write does the same, so an entry
	// dated with any time of a day gives the same bytes.
	Time time.Time
	// Author is the heading after the date, conventionally
	// "Name <email> VERSION-RELEASE". One line.
	Author string
	// Text is the entry's body, conventionally "- " lines.
	Text string
}

// changelogDay is the stored time of an entry: noon UTC of its day.
func changelogDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
}

// validateChangelog checks what rpmbuild checks of %changelog: each entry
// has a date, a one-line author and a text, and the dates never increase.
func validateChangelog(entries []ChangelogEntry) error {
	for i, e := range entries {
		switch {
		case e.Time.IsZero() || e.Time.Unix() < 0 || e.Time.Unix() > 1<<31-1:
			return fmt.Errorf("changelog entry %d (%q): date %v is not a 32-bit time since 1970", i, e.Author, e.Time)
		case strings.TrimSpace(e.Author) == "" || strings.ContainsAny(e.Author, "\n\x00"):
			return fmt.Errorf("changelog entry %d: author %q must be one non-empty line", i, e.Author)
		case strings.TrimSpace(e.Text) == "" || strings.Contains(e.Text, "\x00"):
			return fmt.Errorf("changelog entry %d (%q): empty text", i, e.Author)
		case i > 0 && changelogDay(e.Time).After(changelogDay(entries[i-1].Time)):
			return fmt.Errorf("changelog entry %d (%q): %s is newer than the entry before it (newest first)",
				i, e.Author, e.Time.Format(time.DateOnly))
		}
	}
	return nil
}

func addChangelog(r *rpmpack.RPM, entries []ChangelogEntry) {
	if len(entries) == 0 {
		return
	}
	times := make([]int32, len(entries))
	names := make([]string, len(entries))
	texts := make([]string, len(entries))
	for i, e := range entries {
		times[i] = int32(changelogDay(e.Time).Unix())
		names[i] = e.Author
		texts[i] = strings.TrimRight(e.Text, "\n")
	}
	r.AddCustomTag(tagChangelogTime, rpmpack.EntryInt32(times))
	r.AddCustomTag(tagChangelogName, rpmpack.EntryStringSlice(names))
	r.AddCustomTag(tagChangelogText, rpmpack.EntryStringSlice(texts))
}
