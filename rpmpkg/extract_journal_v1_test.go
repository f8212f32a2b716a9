// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseJournalLineV1(t *testing.T) {
	tests := []struct {
		line string
		want []string // nil: not ok
	}{
		{`C "usr/bin/a"`, []string{"usr/bin/a", "0", "0"}},
		{`T "usr/.rpmpkg-0a"`, []string{"usr/.rpmpkg-0a"}},
		{`B "a" "a.old"`, []string{"a", "a.old", "0", "0"}},
		{`D "." "755" "1" "2"`, []string{".", "755", "1", "2", "0", "0"}},
		{`commit`, []string{}},
		{`C "usr/bin/a" "2049" "1234"`, nil}, // v2
		{`C "usr/bin/a`, nil},                // cut by a kill
		{`C "../a"`, nil},
		{`B "a" "/etc/passwd"`, nil},
		{`D "." "75x" "1" "2"`, nil},
	}
	for _, tt := range tests {
		l, ok := parseJournalLineV1(tt.line)
		if tt.want == nil {
			assert.False(t, ok, tt.line)
			continue
		}
		if assert.True(t, ok, tt.line) {
			assert.Equal(t, tt.want, append([]string{}, l.fields...), tt.line)
		}
	}
}

// A journal in the format of klpkit before identities were recorded
// (testdata/journal-v1), left by an extraction killed before an upgrade,
// is rolled back by the next extraction into dest as that version would
// have: files and directories it created go, the file it replaced comes
// back from its backup, temporary files go, and directories get their
// modes and times back. It was read as cut at its first line, and the
// half-written dest was kept.
func TestRecoverKilledReadsJournalV1(t *testing.T) {
	journal, err := os.ReadFile("testdata/journal-v1")
	require.NoError(t, err)
	dest := filepath.Join(t.TempDir(), "dest")
	write := func(rel, data string) {
		p := filepath.Join(dest, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	// dest as the killed extraction left it, writing usr/bin's first file.
	write("etc/new", "package")
	write("etc/conf", "package's conf")
	write("etc/.rpmpkg-old-0123456789ab-0", "the host's conf")
	write("usr/bin/.rpmpkg-222222222222", "half a file")
	write(".rpmpkg-work-0123456789ab/journal", string(journal))
	require.NoError(t, os.Chmod(filepath.Join(dest, "etc"), 0o700))

	root, err := os.OpenRoot(dest)
	require.NoError(t, err)
	defer root.Close()
	require.NoError(t, recoverKilled(root))

	conf, err := os.ReadFile(filepath.Join(dest, "etc/conf"))
	require.NoError(t, err)
	assert.Equal(t, "the host's conf", string(conf))
	for _, gone := range []string{"etc/new", "usr"} {
		assert.NoFileExists(t, filepath.Join(dest, gone))
		assert.NoDirExists(t, filepath.Join(dest, gone))
	}
	assert.Empty(t, leftovers(t, dest))
	etc, err := os.Stat(filepath.Join(dest, "etc"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o750), etc.Mode().Perm())
	assert.True(t, etc.ModTime().Equal(time.Unix(0, 1600000000000000000)), "etc's time back: %v", etc.ModTime())
	top, err := os.Stat(dest)
	require.NoError(t, err)
	assert.True(t, top.ModTime().Equal(time.Unix(0, 1700000000000000000)), "dest's time back: %v", top.ModTime())
}
