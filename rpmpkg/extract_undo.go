// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/klpkit/klpkit/internal/atomicfile"
)

// journal records what an extraction changed in dest, so that a failure
// puts dest back exactly as it was: entries it created are removed, files
// it replaced come back from a backup beside them (a rename in the same
// directory, so no data is copied and no mount point is crossed), and
// directories it wrote into or chmodded get their modes and times back.
// Its lines are kept in memory as they are written to the journal file:
// a failed extraction and the recovery of a killed one roll back through
// the same rollback, from the same lines.
type journal struct {
	lines   []journalLine     // every line journalled, in order
	ours    map[string]bool   // names created by this extraction
	tag     string            // random part of backup names
	backups int               // entries moved to a backup so far
	dirs    map[string]dirWas // pre-existing directories touched
}

type dirWas struct {
	mode         fs.FileMode
	atime, mtime time.Time
	id           fileID
}

// markCreated records an entry this extraction made.
func (x *extractor) markCreated(rel string) {
	if x.j.ours == nil {
		x.j.ours = map[string]bool{}
	}
	x.j.ours[rel] = true
	x.dirs[rel] = false
}

// rememberDir records a pre-existing directory's mode and times before
// this extraction changes it (by adding entries or by chmod).
func (x *extractor) rememberDir(rel string, fi fs.FileInfo) {
	if x.j.ours[rel] {
		return
	}
	if x.j.dirs == nil {
		x.j.dirs = map[string]dirWas{}
	}
	if _, ok := x.j.dirs[rel]; ok {
		return
	}
	was := dirWas{mode: fi.Mode().Perm(), atime: atime(fi), mtime: fi.ModTime(), id: idOf(fi)}
	x.j.dirs[rel] = was
	if err := x.logDir(rel, was); err != nil && x.jerr == nil {
		x.jerr = err
	}
}

// intend journals a change before it is made (kind jCreated, jTemp or
// jBackup); it fails when any journal write has failed, since a change
// the journal does not hold could not be undone after a kill.
func (x *extractor) intend(kind string, fields ...string) error {
	if x.jerr != nil {
		return x.jerr
	}
	if err := x.logf(kind, fields...); err != nil {
		x.jerr = err
		return err
	}
	return nil
}

// begin makes the work directory and journal; dest's own mode and times
// are journalled first, as making the work directory changes them.
func (x *extractor) begin() error {
	fi, err := x.root.Lstat(".")
	if err != nil {
		return err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	x.j.tag = hex.EncodeToString(b[:])
	x.rememberDir(".", fi)
	if err := x.openWork(x.j.tag); err != nil {
		return err
	}
	return x.logDir(".", x.j.dirs["."])
}

// rememberParents records the pre-existing directories above rel.
func (x *extractor) rememberParents(rel string) {
	for _, d := range append([]string{"."}, parentDirs(rel)...) {
		if _, seen := x.j.dirs[d]; seen || x.j.ours[d] {
			continue
		}
		if fi, err := x.root.Lstat(d); err == nil && fi.IsDir() {
			x.rememberDir(d, fi)
		}
	}
}

// displace moves an entry that was in dest before this extraction out of
// the way, to a backup name in its directory, instead of deleting it.
func (x *extractor) displace(entry, rel string) error {
	if x.j.ours[rel] {
		if err := x.root.Remove(rel); err != nil {
			return &EntryError{Entry: entry, Err: err}
		}
		return nil
	}
	fi, err := x.root.Lstat(rel)
	if err != nil {
		return &EntryError{Entry: entry, Err: err}
	}
	x.rememberParents(rel)
	saved := path.Join(path.Dir(rel), ".rpmpkg-old-"+x.j.tag+"-"+strconv.Itoa(x.j.backups))
	x.j.backups++
	if err := x.intend(jBackup, append([]string{rel, saved}, idOf(fi).fields()...)...); err != nil {
		return &EntryError{Entry: entry, Err: err}
	}
	if err := x.root.Rename(rel, saved); err != nil {
		return &EntryError{Entry: entry, Err: err}
	}
	return nil
}

// tempName is a new temporary name in dir.
func tempName(dir string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return path.Join(dir, ".rpmpkg-"+hex.EncodeToString(b[:]))
}

// place creates rel through mk, which makes it under a temporary name
// beside it: the journal then records the new entry's identity before it
// takes the name rel, so a rollback removes it and nothing that another
// process put at rel.
func (x *extractor) place(entry, rel string, mk func(tmp string) error) error {
	tmp := tempName(path.Dir(rel))
	if err := x.intend(jTemp, tmp); err != nil {
		return &EntryError{Entry: entry, Err: err}
	}
	if err := mk(tmp); err != nil {
		return &EntryError{Entry: entry, Err: err}
	}
	fi, err := x.root.Lstat(tmp)
	if err == nil {
		err = x.intend(jCreated, append([]string{rel}, idOf(fi).fields()...)...)
	}
	if err == nil {
		err = x.renameNoReplace(tmp, rel)
	}
	if err != nil {
		_ = x.root.Remove(tmp)
		return &EntryError{Entry: entry, Err: err}
	}
	x.markCreated(rel)
	return nil
}

// renameNoReplace renames tmp to rel, two names in one directory of
// dest, unless rel exists: what another process put at rel after
// clearFor made way (which a plain rename would replace) is never
// dropped; the entry fails instead.
func (x *extractor) renameNoReplace(tmp, rel string) error {
	d, err := x.root.Open(path.Dir(rel))
	if err != nil {
		return err
	}
	defer d.Close()
	return atomicfile.RenameNoReplaceIn(d, path.Base(tmp), path.Base(rel))
}

// commit makes a finished extraction final: once the journal says
// "commit", dest holds the whole package, and the backups only are left
// to drop. Only a failure to journal that is an error (and the extraction
// is then undone); a backup that will not go is not: the work directory
// and its journal stay, and the next extraction into dest removes it. So
// a commit never leaves dest half old and half new.
func (x *extractor) commit() error {
	if err := x.intend(jCommit); err != nil {
		return err
	}
	left := dropBackups(x.root, x.j.lines) != nil
	if left {
		_ = x.jw.Close()
		x.jw, x.work = nil, ""
		return nil
	}
	_ = x.closeWork()
	return nil
}

// rollback puts dest back as the journal lines found it, newest change
// first: created entries and temporary files go, replaced entries come
// back from their backups, then pre-existing directories get their modes
// and times back, deepest first (setting a directory's times does not
// touch its parent). It returns dest's own directory line, for the
// caller to apply once more after removing the work directory (which
// touches dest's times). Both a failed extraction and the recovery of a
// killed one come here.
func rollback(root *os.Root, lines []journalLine) (*journalLine, error) {
	var errs []error
	var dirs []journalLine
	var dot *journalLine
	for i := len(lines) - 1; i >= 0; i-- {
		l := lines[i]
		switch l.kind {
		case jCreated:
			id, _ := parseFileID(l.fields[1], l.fields[2])
			errs = append(errs, removeIfSame(root, l.fields[0], id))
		case jTemp: // a random name of this extraction's own
			if err := root.Remove(l.fields[0]); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		case jBackup:
			id, _ := parseFileID(l.fields[2], l.fields[3])
			errs = append(errs, restoreBackup(root, l.fields[0], l.fields[1], id))
		case jDir:
			dirs = append(dirs, l)
			if l.fields[0] == "." {
				dot = &lines[i]
			}
		}
	}
	sort.SliceStable(dirs, func(i, j int) bool { return depth(dirs[i].fields[0]) > depth(dirs[j].fields[0]) })
	for _, l := range dirs {
		errs = append(errs, restoreDir(root, l))
	}
	return dot, errors.Join(errs...)
}

// removeIfSame removes rel if it is still the entry id names: what
// another process put there meanwhile stays, and so does a directory of
// this extraction's that now holds entries not its own.
func removeIfSame(root *os.Root, rel string, id fileID) error {
	fi, err := root.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !id.is(fi) {
		return nil
	}
	err = root.Remove(rel)
	if err == nil || errors.Is(err, fs.ErrNotExist) ||
		(fi.IsDir() && (errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST))) {
		return nil
	}
	return err
}

// restoreBackup renames the backup saved, the entry id names, back to
// rel. A missing backup is fine when rel is still that entry: the change
// was journalled but the rename not made. The backup is not renamed over
// an entry that another process put at rel meanwhile: that is an error
// saying where the original is.
func restoreBackup(root *os.Root, rel, saved string, id fileID) error {
	fi, err := root.Lstat(saved)
	if errors.Is(err, fs.ErrNotExist) {
		if cur, err := root.Lstat(rel); err == nil && id.is(cur) {
			return nil
		}
		return fmt.Errorf("%s: its backup %s is gone", rel, saved)
	}
	if err != nil {
		return err
	}
	if !id.is(fi) {
		return fmt.Errorf("%s: %s is no longer its backup", rel, saved)
	}
	if _, err := root.Lstat(rel); err == nil {
		return fmt.Errorf("%s: another entry took its place; the original is kept as %s", rel, saved)
	}
	return root.Rename(saved, rel)
}

// dropBackups removes the backups of a committed extraction.
func dropBackups(root *os.Root, lines []journalLine) error {
	var errs []error
	for _, l := range lines {
		if l.kind == jBackup {
			if err := root.RemoveAll(l.fields[1]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// restoreDir applies a directory line, mode and times, to the directory
// at its name if that is still the one journalled.
func restoreDir(root *os.Root, l journalLine) error {
	mode, _ := strconv.ParseUint(l.fields[1], 8, 32)
	at, _ := strconv.ParseInt(l.fields[2], 10, 64)
	mt, _ := strconv.ParseInt(l.fields[3], 10, 64)
	id, _ := parseFileID(l.fields[4], l.fields[5])
	fi, err := root.Lstat(l.fields[0])
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() || !id.is(fi) {
		return nil
	}
	var errs []error
	if err := root.Chmod(l.fields[0], fs.FileMode(mode).Perm()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	if err := root.Chtimes(l.fields[0], time.Unix(0, at), time.Unix(0, mt)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func depth(rel string) int {
	if rel == "." {
		return -1
	}
	return strings.Count(rel, "/")
}
