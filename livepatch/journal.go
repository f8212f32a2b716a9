// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The journal makes a commit recoverable after a kill at any point. It is
// written (and synced) in the tree root before the first change and names
// every target with its staged and moved-aside files; it is removed after
// the last. Until it says committed, recovery rolls back; after, forward.
const (
	journalName = ".klpkit-apply.journal"
	journalTemp = journalName + ".tmp" // a journal being written; never acted on
	journalV    = 1
	newPrefix   = ".klpkit-new-"
	origPrefix  = ".klpkit-orig-"
)

// ErrInterrupted: the tree holds an interrupted apply's journal; Recover
// (or Apply, which recovers first) puts the tree back to a whole state.
var ErrInterrupted = errors.New("an interrupted apply is not yet recovered")

type journal struct {
	Version   int            `json:"version"`
	Committed bool           `json:"committed"`
	Dirs      []string       `json:"dirs,omitempty"` // created, outermost first
	Entries   []journalEntry `json:"entries"`
}

// journalEntry is one target. Paths are tree paths with slashes; New and
// Old are files beside Path.
type journalEntry struct {
	Path string `json:"path"`
	New  string `json:"new,omitempty"` // staged content; "" when the file goes away
	Old  string `json:"old,omitempty"` // the original, moved aside; "" when it did not exist
	// Orig is the original's identity (device:inode, see fileIdentity)
	// before it was moved aside; "" when unknown. Recovery moves and
	// removes only the file that has it.
	Orig string `json:"orig,omitempty"`
}

// Recover finishes or undoes an apply to the tree at root that was
// interrupted (killed, or its rollback failed): afterwards the tree is
// wholly as before that apply or wholly as after it, with no journal or
// staged files left. Without a journal it does nothing. Apply calls it
// first.
func Recover(root string) error {
	unlock, err := lockTree(context.Background(), root)
	if err != nil {
		return err
	}
	defer unlock()
	return recoverTree(&committer{root: root, rename: os.Rename})
}

func recoverTree(c *committer) error {
	// A journal that never got its name was written before any change.
	if err := os.Remove(c.host(journalTemp)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("recover %s: %w", c.root, err)
	}
	data, err := os.ReadFile(c.host(journalName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("recover %s: %w", c.root, err)
	}
	j, err := decodeJournal(data)
	if err != nil {
		return fmt.Errorf("recover %s: journal %s: %w", c.root, journalName, err)
	}
	if j.Committed {
		err = c.rollForward(j)
	} else {
		err = c.rollBack(j)
	}
	if err != nil {
		return fmt.Errorf("recover %s: %w", c.root, err)
	}
	return nil
}

// decodeJournal parses a journal and refuses one that names anything but
// files in the tree and this package's staged names beside them, since
// recovery renames and removes what it names.
func decodeJournal(data []byte) (*journal, error) {
	var j journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, err
	}
	if j.Version != journalV {
		return nil, fmt.Errorf("version %d, want %d", j.Version, journalV)
	}
	for _, d := range j.Dirs {
		if !filepath.IsLocal(filepath.FromSlash(d)) {
			return nil, fmt.Errorf("directory %q: %w", d, ErrUnsafePath)
		}
	}
	for _, e := range j.Entries {
		if !filepath.IsLocal(filepath.FromSlash(e.Path)) {
			return nil, fmt.Errorf("path %q: %w", e.Path, ErrUnsafePath)
		}
		for _, side := range []struct{ name, prefix string }{{e.New, newPrefix}, {e.Old, origPrefix}} {
			if side.name == "" {
				continue
			}
			dir, base := pathpkgSplit(side.name)
			if want, _ := pathpkgSplit(e.Path); dir != want || !strings.HasPrefix(base, side.prefix) {
				return nil, fmt.Errorf("%q is not a staged name beside %q: %w", side.name, e.Path, ErrUnsafePath)
			}
		}
	}
	return &j, nil
}

// pathpkgSplit splits a slash path into directory and last element.
func pathpkgSplit(p string) (dir, base string) {
	i := strings.LastIndexByte(p, '/')
	return p[:i+1], p[i+1:]
}

// writeJournal replaces the journal atomically and durably.
func (c *committer) writeJournal(j *journal) error {
	data, err := json.Marshal(j)
	if err != nil {
		return err
	}
	tmp := c.host(journalTemp)
	if err := writeSynced(tmp, data, 0o600); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write journal: %w", err)
	}
	if err := os.Rename(tmp, c.host(journalName)); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write journal: %w", err)
	}
	return syncDir(c.root)
}

func (c *committer) removeJournal() error {
	if err := os.Remove(c.host(journalName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove journal: %w", err)
	}
	return syncDir(c.root)
}

// rollBack undoes an uncommitted apply from whatever point it reached;
// run again after its own interruption, it continues.
func (c *committer) rollBack(j *journal) error {
	var errs []error
	for i := len(j.Entries) - 1; i >= 0; i-- {
		e := j.Entries[i]
		dst := c.host(e.Path)
		switch {
		case e.Old != "":
			// Moved aside: put back (over the new file, if it got there).
			if exists(c.host(e.Old)) {
				if err := c.rename(c.host(e.Old), dst); err != nil {
					errs = append(errs, fmt.Errorf("restore %s (the original is kept as %s): %w", e.Path, e.Old, err))
					continue
				}
			}
		case e.New != "" && !exists(c.host(e.New)) && exists(dst):
			// A created file whose staged copy was renamed into place.
			if err := os.Remove(dst); err != nil {
				errs = append(errs, fmt.Errorf("remove created %s: %w", e.Path, err))
			}
		}
		if e.New != "" {
			if err := removeIfExists(c.host(e.New)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for i := len(j.Dirs) - 1; i >= 0; i-- {
		if err := removeIfExists(c.host(j.Dirs[i])); err != nil {
			errs = append(errs, fmt.Errorf("remove created directory %s: %w", j.Dirs[i], err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: the journal %s is kept for Recover", errors.Join(errs...), journalName)
	}
	return c.removeJournal()
}

// rollForward completes a committed apply: every staged file in place,
// every original removed. What is at a target now is moved aside only if
// it is still the original (its identity is the journalled one): a file
// made there after the original went is someone else's and stays.
func (c *committer) rollForward(j *journal) error {
	for _, e := range j.Entries {
		dst := c.host(e.Path)
		if e.Old != "" && !exists(c.host(e.Old)) && exists(dst) && (e.New == "" || exists(c.host(e.New))) &&
			e.Orig != "" && fileIdentity(dst) == e.Orig {
			if err := c.rename(dst, c.host(e.Old)); err != nil {
				return fmt.Errorf("move %s aside: %w", e.Path, err)
			}
		}
		if e.New != "" && exists(c.host(e.New)) {
			if err := c.rename(c.host(e.New), dst); err != nil {
				return fmt.Errorf("write %s: %w", e.Path, err)
			}
		}
	}
	for _, e := range j.Entries {
		if e.Old == "" {
			continue
		}
		if id := fileIdentity(c.host(e.Old)); id != "" && e.Orig != "" && id != e.Orig {
			return fmt.Errorf("%s is not the original of %s that the journal names (changed since?): left in place, as is the journal %s", e.Old, e.Path, journalName)
		}
		if err := removeIfExists(c.host(e.Old)); err != nil {
			return err
		}
	}
	return c.removeJournal()
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func removeIfExists(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// writeSynced creates name (which must not be a file the tree needs) and
// makes its data durable before it is renamed anywhere.
func writeSynced(name string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	return errors.Join(werr, f.Chmod(mode), f.Sync(), f.Close())
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
