// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// committer changes the tree on disk; rename and step are seams for tests
// (write failures, kills at a chosen step).
type committer struct {
	root   string
	rename func(oldpath, newpath string) error
	step   func() // called before each change to the tree
}

func (c *committer) host(rel string) string { return filepath.Join(c.root, filepath.FromSlash(rel)) }

func (c *committer) tick() {
	if c.step != nil {
		c.step()
	}
}

// commit writes the staged files so that the tree ends up either fully
// patched or unchanged, even if the process dies part way: a journal goes
// first (see journal.go), then the new contents beside their targets, then
// originals are moved aside and the new files renamed into place; a
// failure rolls back, and a kill leaves the journal for Recover.
func commit(t *memTree, paths []string, step func()) error {
	c := &committer{root: t.root, rename: t.rename, step: step}
	j, err := plan(t, paths)
	if err != nil {
		return err
	}
	c.tick()
	if err := c.writeJournal(j); err != nil {
		return err
	}
	if err := c.forward(t, j); err != nil {
		var done *committedError
		if errors.As(err, &done) {
			return err
		}
		if rerr := c.rollBack(j); rerr != nil {
			return errors.Join(err, fmt.Errorf("rollback: %w", rerr))
		}
		return err
	}
	return nil
}

// plan names the staged and moved-aside file of every target and the
// directories to create, so that the journal can list them all up front.
func plan(t *memTree, paths []string) (*journal, error) {
	var id [4]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	tag := hex.EncodeToString(id[:])
	j := &journal{Version: journalV}
	seen := map[string]bool{}
	for i, rel := range paths {
		if rel == journalName || rel == journalTemp {
			return nil, fmt.Errorf("%s: the name of Apply's journal: %w", rel, ErrUnsafePath)
		}
		e := journalEntry{Path: rel}
		dir, _ := pathpkgSplit(rel)
		if t.files[rel].exists {
			e.New = freeRel(t, fmt.Sprintf("%s%s%s-%d", dir, newPrefix, tag, i))
			for _, d := range missingDirs(t, dir) {
				if !seen[d] {
					seen[d] = true
					j.Dirs = append(j.Dirs, d)
				}
			}
		}
		if t.pristine[rel].exists {
			e.Old = freeRel(t, fmt.Sprintf("%s%s%s-%d", dir, origPrefix, tag, i))
			e.Orig = fileIdentity(t.hostPath(rel))
		}
		j.Entries = append(j.Entries, e)
	}
	return j, nil
}

// missingDirs lists the directories of dir (a slash path ending in '/',
// or "") that do not exist, outermost first.
func missingDirs(t *memTree, dir string) []string {
	var out []string
	for d := path.Clean(dir); d != "." && d != "/" && !exists(t.hostPath(d)); d = path.Dir(d) {
		out = append([]string{d}, out...)
	}
	return out
}

// freeRel returns rel, or rel with a number, naming nothing yet.
func freeRel(t *memTree, rel string) string {
	name := rel
	for i := 1; exists(t.hostPath(name)); i++ {
		name = fmt.Sprintf("%s.%d", rel, i)
	}
	return name
}

// forward makes the journal's changes; on error the caller rolls back.
func (c *committer) forward(t *memTree, j *journal) error {
	for _, d := range j.Dirs {
		c.tick()
		if err := os.Mkdir(c.host(d), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create directory %s: %w", d, err)
		}
	}
	for _, e := range j.Entries {
		if e.New == "" {
			continue
		}
		m := t.files[e.Path]
		c.tick()
		if err := writeSynced(c.host(e.New), m.content(), m.mode); err != nil {
			return fmt.Errorf("stage %s: %w", e.Path, err)
		}
	}
	dirs := map[string]bool{}
	for _, e := range j.Entries {
		dst := c.host(e.Path)
		dirs[filepath.Dir(dst)] = true
		if e.Old != "" {
			c.tick()
			if err := c.rename(dst, c.host(e.Old)); err != nil {
				return fmt.Errorf("move %s aside: %w", e.Path, err)
			}
		}
		if e.New != "" {
			c.tick()
			if err := c.rename(c.host(e.New), dst); err != nil {
				return fmt.Errorf("write %s: %w", e.Path, err)
			}
		}
	}
	// The renames must be durable before the journal says committed,
	// since from then on the originals are removed.
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return fmt.Errorf("sync %s: %w", d, err)
		}
	}
	j.Committed = true
	c.tick()
	if err := c.writeJournal(j); err != nil {
		return err
	}
	// Committed: from here on a failure is finished by Recover, not undone.
	for _, e := range j.Entries {
		if e.Old != "" {
			c.tick()
			if err := removeIfExists(c.host(e.Old)); err != nil {
				return &committedError{fmt.Errorf("remove the original of %s: %w", e.Path, err)}
			}
		}
	}
	c.tick()
	if err := c.removeJournal(); err != nil {
		return &committedError{err}
	}
	return nil
}

// committedError is a failure after the commit point: the tree is patched
// and only cleanup is left, so commit must not roll back.
type committedError struct{ err error }

func (e *committedError) Error() string {
	return fmt.Sprintf("%v (the patches are applied; livepatch.Recover removes what is left)", e.err)
}
func (e *committedError) Unwrap() error { return e.err }
