// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
)

// An extraction keeps its own files in a work directory at the top of
// dest, named workPrefix plus a random tag: the spool of a streamed
// payload, and a journal that records each change to dest before it is
// made (a line per entry created, per entry moved to a backup, per
// temporary file, per pre-existing directory touched, and "commit" once
// every entry is in place). Both go on every path out of Extract.
//
// After a kill (SIGKILL, a crash, a power cut once the page cache reached
// the disk) the journal is what is left to go by, and the next Extract
// into the same dest acts on it before anything else: without "commit" it
// rolls the killed extraction back (backups renamed back, created entries
// and temporary files removed, directory modes and times restored), so
// that dest is as it was before it, which is the promise a failed
// extraction keeps; after "commit" only backups are left to remove. It
// rolls back rather than deleting the backups because those are the files
// the killed extraction replaced: removing them would lose them and keep
// a half-written tree.
const (
	workPrefix  = ".rpmpkg-work-"
	journalName = "journal"
)

// Journal line kinds.
const (
	jCreated = "C" // rel dev ino: an entry about to be created (or renamed to rel), and its identity
	jTemp    = "T" // rel: a temporary name about to be created
	jBackup  = "B" // rel saved dev ino: rel, that entry, about to be renamed to saved
	jDir     = "D" // rel mode atime mtime dev ino: a pre-existing directory
	jCommit  = "commit"
)

// logf appends a journal line. Quoted fields keep any name on one line.
func (x *extractor) logf(kind string, fields ...string) error {
	if x.jw == nil {
		return nil
	}
	var b strings.Builder
	b.WriteString(kind)
	for _, f := range fields {
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(f))
	}
	b.WriteByte('\n')
	x.j.lines = append(x.j.lines, journalLine{kind: kind, fields: fields})
	// Unbuffered: a SIGKILL loses nothing the kernel already has.
	if _, err := x.jw.WriteString(b.String()); err != nil {
		return fmt.Errorf("journal %s: %w", x.jw.Name(), err)
	}
	return nil
}

// logDir records a pre-existing directory's mode and times.
func (x *extractor) logDir(rel string, was dirWas) error {
	return x.logf(jDir, append([]string{rel, strconv.FormatUint(uint64(was.mode), 8),
		strconv.FormatInt(was.atime.UnixNano(), 10), strconv.FormatInt(was.mtime.UnixNano(), 10)}, was.id.fields()...)...)
}

// openWork makes this extraction's work directory and journal in dest.
func (x *extractor) openWork(tag string) error {
	x.work = workPrefix + tag
	if err := x.root.Mkdir(x.work, 0o700); err != nil {
		return fmt.Errorf("work directory in %s: %w", x.dest, err)
	}
	f, err := x.root.OpenFile(path.Join(x.work, journalName), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("journal in %s: %w", x.dest, err)
	}
	x.jw = f
	return nil
}

// closeJournal closes the journal file, keeping it on disk.
func (x *extractor) closeJournal() {
	if x.jw != nil {
		_ = x.jw.Close()
		x.jw = nil
	}
}

// closeWork removes the work directory (spool and journal).
func (x *extractor) closeWork() error {
	x.closeJournal()
	if x.work == "" {
		return nil
	}
	return x.root.RemoveAll(x.work)
}

// recoverKilled acts on the work directories a killed extraction left in
// root: each is rolled back or, once committed, finished, then removed.
func recoverKilled(root *os.Root) error {
	d, err := root.Open(".")
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return err
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		if !strings.HasPrefix(name, workPrefix) {
			continue
		}
		dot, err := replay(root, path.Join(name, journalName))
		if err != nil {
			errs = append(errs, fmt.Errorf("recovering the extraction killed in %s: %w", name, err))
			continue
		}
		if err := root.RemoveAll(name); err != nil {
			errs = append(errs, err)
			continue
		}
		if dot != nil {
			// Removing the work directory touched dest's times again.
			errs = append(errs, restoreDir(root, *dot))
		}
	}
	return errors.Join(errs...)
}

type journalLine struct {
	kind   string
	fields []string
}

// replay undoes (or, after commit, finishes) what the journal at jpath
// records. A missing journal means nothing was changed yet. Rolling back,
// it returns dest's own line, for the caller to apply once more after
// removing the work directory.
func replay(root *os.Root, jpath string) (*journalLine, error) {
	f, err := root.Open(jpath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []journalLine
	committed := false
	parse := parseJournalLine
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for first := true; sc.Scan(); first = false {
		if first {
			parse = journalFormat(sc.Text())
		}
		l, ok := parse(sc.Text())
		if !ok {
			break // a line cut by the kill: nothing after it happened
		}
		if l.kind == jCommit {
			committed = true
			continue
		}
		lines = append(lines, l)
	}
	if committed {
		return nil, dropBackups(root, lines)
	}
	return rollback(root, lines)
}

// parseJournalLine reads "KIND "q1" "q2"..." with the field count KIND
// needs; anything else (a line cut short) is not ok.
func parseJournalLine(s string) (journalLine, bool) {
	l, ok := splitJournalLine(s)
	want := map[string]int{jCreated: 3, jTemp: 1, jBackup: 4, jDir: 6, jCommit: 0}
	if n, known := want[l.kind]; !ok || !known || len(l.fields) != n {
		return journalLine{}, false
	}
	return checkJournalLine(l)
}

// journalFormat picks the parser for a journal from its first line, which
// is always dest's own directory line. Journals written before entries'
// identities were recorded (format v1) carry none: "C rel", "B rel saved"
// and "D rel mode atime mtime". One that a killed extraction of such a
// klpkit left, found after an upgrade, is read as v1, so that the killed
// extraction is still rolled back (or finished) and not dropped.
func journalFormat(first string) func(string) (journalLine, bool) {
	if _, ok := parseJournalLine(first); !ok {
		if l, ok := parseJournalLineV1(first); ok && l.kind == jDir && l.fields[0] == "." {
			return parseJournalLineV1
		}
	}
	return parseJournalLine
}

// parseJournalLineV1 reads a line of the format without identities and
// gives it the unknown identity (the zero fileID: the name decides, as it
// did for the version that wrote it).
func parseJournalLineV1(s string) (journalLine, bool) {
	l, ok := splitJournalLine(s)
	want := map[string]int{jCreated: 1, jTemp: 1, jBackup: 2, jDir: 4, jCommit: 0}
	if n, known := want[l.kind]; !ok || !known || len(l.fields) != n {
		return journalLine{}, false
	}
	if l.kind == jCreated || l.kind == jBackup || l.kind == jDir {
		l.fields = append(l.fields, fileID{}.fields()...)
	}
	return checkJournalLine(l)
}

// splitJournalLine splits "KIND "q1" "q2"..." into its kind and fields.
func splitJournalLine(s string) (journalLine, bool) {
	kind, rest, _ := strings.Cut(s, " ")
	l := journalLine{kind: kind}
	for rest != "" {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return journalLine{}, false
		}
		v, _ := strconv.Unquote(q)
		l.fields = append(l.fields, v)
		rest = strings.TrimPrefix(rest[len(q):], " ")
	}
	return l, true
}

// checkJournalLine checks the fields of a line with its kind's count:
// names below dest, numbers that parse.
func checkJournalLine(l journalLine) (journalLine, bool) {
	if l.kind == jDir {
		// A mode or time that does not parse would chmod the directory
		// to 0 or date it 1970: such a line is not one this package wrote.
		_, merr := strconv.ParseUint(l.fields[1], 8, 32)
		_, aerr := strconv.ParseInt(l.fields[2], 10, 64)
		_, terr := strconv.ParseInt(l.fields[3], 10, 64)
		_, idok := parseFileID(l.fields[4], l.fields[5])
		if merr != nil || aerr != nil || terr != nil || !idok || (l.fields[0] != "." && !isLocalRel(l.fields[0])) {
			return journalLine{}, false
		}
		return l, true
	}
	names := l.fields
	switch l.kind {
	case jCreated:
		names = l.fields[:1]
	case jBackup:
		names = l.fields[:2]
	}
	if len(names) < len(l.fields) {
		if _, ok := parseFileID(l.fields[len(names)], l.fields[len(names)+1]); !ok {
			return journalLine{}, false
		}
	}
	for _, f := range names {
		if !isLocalRel(f) {
			return journalLine{}, false
		}
	}
	return l, true
}

// isLocalRel reports a clean relative name below dest ("." excluded).
func isLocalRel(rel string) bool {
	return rel != "" && rel != "." && path.Clean(rel) == rel && !path.IsAbs(rel) && rel != ".." && !strings.HasPrefix(rel, "../")
}
