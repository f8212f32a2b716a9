// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/klpkit/klpkit/internal/asuser"
)

// checkTreeLinks refuses, before any of the tree's programs runs, a tree
// whose symbolic links lead out of it to where the build user may not
// go: make and the compiler follow them by path as that user, and would
// stop far into the build with "permission denied" (a link farm into a
// tree under root's home does). Every link in the tree and the kbuild
// tree is resolved as this process resolves it; a relative one that
// stays inside its tree is covered by the tree's own check. The error
// names the link, where it leads and the directory that stops the user.
func (r *runner) checkTreeLinks(ctx context.Context) error {
	if r.as == nil {
		return nil
	}
	c := &linkCheck{as: r.as, reach: asuser.NewReacher(r.as), allowed: map[string]bool{}}
	var roots []string
	for _, dir := range []string{r.tree.Dir, r.tree.KbuildDir} {
		if dir == "" {
			continue
		}
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return fmt.Errorf("build: %w", err)
		}
		covered := false
		for _, root := range roots {
			covered = covered || within(real, root)
		}
		if covered {
			continue
		}
		roots = append(roots, real)
		key := fmt.Sprintf("%s\x00%d:%d", real, r.as.UID, r.as.GID)
		if _, done := linksChecked.Load(key); done {
			continue
		}
		if err := c.walk(ctx, dir, real); err != nil {
			return err
		}
		linksChecked.Store(key, true)
	}
	return nil
}

// linksChecked holds the trees (real path, user) whose links passed in
// this process: a walk of a kernel tree costs about half a second, and a
// process that builds many livepatches from one tree (a test suite, a
// fleet agent) pays it once. The check spares a late "permission
// denied"; the kernel enforces the permissions, so a link added to a
// checked tree later only brings that back.
var linksChecked sync.Map

type linkCheck struct {
	as    *asuser.User
	reach *asuser.Reacher
	// allowed: blocked directories that CheckPath found passable after
	// all (an ACL the mode bits do not show).
	allowed map[string]bool
}

// walk checks the links under dir, whose real path is real.
func (c *linkCheck) walk(ctx context.Context, dir, real string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // gone during the walk (another build's temporary file)
			}
			return fmt.Errorf("build: checking the links of %s: %w", dir, err)
		}
		if d.IsDir() {
			return ctx.Err()
		}
		if d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil // dangling or a loop: the build says so if it needs it
		}
		// A relative link that stays inside is reached as the tree is; an
		// absolute one is followed by path from /, inside or not.
		if text, err := os.Readlink(p); err == nil && !filepath.IsAbs(text) && within(target, real) {
			return nil
		}
		blocked := c.reach.Blocked(target)
		if blocked == "" || c.allowed[blocked] {
			return nil
		}
		what := fmt.Sprintf("a link to %s, which the compiler and make follow; %s stops it", target, blocked)
		if blocked == target {
			what = fmt.Sprintf("a link to %s, which the compiler and make follow and it may not read", target)
		}
		if err := asuser.CheckPath(ctx, c.as, target, what); err != nil {
			var ae *asuser.AccessError
			if errors.As(err, &ae) {
				ae.Path = p
			}
			return userAccessError(err, "let it through the directories on the link's way (o+x), keep the tree's files inside the tree, or choose a user that may read them")
		}
		c.allowed[blocked] = true
		return nil
	})
}

// within reports whether the clean path p is root or below it.
func within(p, root string) bool {
	return p == root || strings.HasPrefix(p, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator))
}
