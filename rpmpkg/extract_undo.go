// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// journal records what an extraction changed in dest, so that a failure
// puts dest back exactly as it was: entries it created are removed, files
// it replaced come back from a backup beside them (a rename in the same
// directory, so no data is copied and no mount point is crossed), and
// directories it wrote into or chmodded get their modes and times back.
type journal struct {
	created []string          // created entries, in order
	ours    map[string]bool   // names created by this extraction
	tag     string            // random part of backup names
	backups []backupEntry     // replaced entries, in order
	dirs    map[string]dirWas // pre-existing directories touched
}

type backupEntry struct{ rel, saved string }

type dirWas struct {
	mode         fs.FileMode
	atime, mtime time.Time
}

// markCreated records an entry this extraction made.
func (x *extractor) markCreated(rel string) {
	if x.j.ours == nil {
		x.j.ours = map[string]bool{}
	}
	x.j.created = append(x.j.created, rel)
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
	was := dirWas{mode: fi.Mode().Perm(), atime: atime(fi), mtime: fi.ModTime()}
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
	x.rememberParents(rel)
	saved := path.Join(path.Dir(rel), ".rpmpkg-old-"+x.j.tag+"-"+strconv.Itoa(len(x.j.backups)))
	if err := x.intend(jBackup, rel, saved); err != nil {
		return &EntryError{Entry: entry, Err: err}
	}
	if err := x.root.Rename(rel, saved); err != nil {
		return &EntryError{Entry: entry, Err: err}
	}
	x.j.backups = append(x.j.backups, backupEntry{rel: rel, saved: saved})
	return nil
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
	left := false
	for _, b := range x.j.backups {
		if err := x.root.RemoveAll(b.saved); err != nil {
			left = true
		}
	}
	if left {
		_ = x.jw.Close()
		x.jw, x.work = nil, ""
		return nil
	}
	_ = x.closeWork()
	return nil
}

// undo puts dest back as it was: what this extraction created goes,
// newest first; what it replaced comes back. restoreDirs then gives
// directories their modes and times back.
func (x *extractor) undo() error {
	var errs []error
	for i := len(x.j.created) - 1; i >= 0; i-- {
		if err := x.root.Remove(x.j.created[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for i := len(x.j.backups) - 1; i >= 0; i-- {
		b := x.j.backups[i]
		if err := x.root.Rename(b.saved, b.rel); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// restoreDirs gives the pre-existing directories this extraction touched
// their modes and times back, deepest first.
func (x *extractor) restoreDirs() error {
	var errs []error
	dirs := make([]string, 0, len(x.j.dirs))
	for d := range x.j.dirs {
		dirs = append(dirs, d)
	}
	// Deepest first: setting a directory's times does not touch its parent.
	sort.Slice(dirs, func(i, j int) bool {
		if depth(dirs[i]) != depth(dirs[j]) {
			return depth(dirs[i]) > depth(dirs[j])
		}
		return dirs[i] < dirs[j]
	})
	for _, d := range dirs {
		was := x.j.dirs[d]
		if err := x.root.Chmod(d, was.mode); err != nil {
			errs = append(errs, err)
		}
		if err := x.root.Chtimes(d, was.atime, was.mtime); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func depth(rel string) int {
	if rel == "." {
		return -1
	}
	return strings.Count(rel, "/")
}
