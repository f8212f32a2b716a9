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
	x.j.dirs[rel] = dirWas{mode: fi.Mode().Perm(), atime: atime(fi), mtime: fi.ModTime()}
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
	if x.j.tag == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		x.j.tag = hex.EncodeToString(b[:])
	}
	saved := path.Join(path.Dir(rel), ".rpmpkg-old-"+x.j.tag+"-"+strconv.Itoa(len(x.j.backups)))
	if err := x.root.Rename(rel, saved); err != nil {
		return &EntryError{Entry: entry, Err: err}
	}
	x.j.backups = append(x.j.backups, backupEntry{rel: rel, saved: saved})
	return nil
}

// commit drops the backups of a successful extraction.
func (x *extractor) commit() error {
	var errs []error
	for _, b := range x.j.backups {
		if err := x.root.Remove(b.saved); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// undo puts dest back as it was: what this extraction created goes,
// newest first; what it replaced comes back; directories get their modes
// and times back, deepest first.
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
