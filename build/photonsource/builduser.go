// SPDX-License-Identifier: Apache-2.0

package photonsource

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/asuser"
)

// giveTree gives the prepared tree to the build user, who runs make in it,
// when the caller is root (see Source.BuildUser). The tree is this
// source's own (Prepare made it under Dir), so its files change hands; what
// make writes stays readable to the rest of the pipeline. Entries the user
// already owns are left alone, so a later run costs one walk.
func (s *Source) giveTree(ctx context.Context, tree string) error {
	if !asuser.IsRoot() || s.BuildAsRoot {
		return nil
	}
	bu := s.BuildUser
	if bu == nil {
		var err error
		if bu, err = build.DefaultBuildUser(tree); err != nil {
			return fmt.Errorf("photonsource: %w", err)
		}
	}
	if bu.UID == 0 || bu.GID == 0 {
		return fmt.Errorf("photonsource: BuildUser is root (%d:%d); set BuildAsRoot to build as root", bu.UID, bu.GID)
	}
	u := &asuser.User{UID: bu.UID, GID: bu.GID}
	err := asuser.OwnTree(ctx, u, tree)
	if err == nil {
		err = s.openPath(tree)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("photonsource: giving the tree %s to the build user %s: %w", tree, u, err)
	}
	// make needs the tree's path (kbuild takes its directory's real path).
	if err := asuser.Check(ctx, u, tree, true, false, "make prepares and builds the kernel there"); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("photonsource: %w: %w: keep prepared trees (Source.Dir, auto_livepatch --work) under directories it may pass through, as the default /var/opt/auto_livepatch/src is, or build as root (BuildAsRoot, --build-as-root)", build.ErrBuildUserAccess, err)
	}
	s.as = u
	s.log().Info("make runs in the tree as the build user", "tree", tree, "user", u.String())
	return nil
}

// openPath lets others pass through (never list) the directories Prepare
// made between Source.Dir and tree (the kernel's own is mode 0700), so that
// the build user reaches the tree by path, as make needs.
func (s *Source) openPath(tree string) error {
	top := filepath.Clean(s.Dir)
	for d := filepath.Dir(tree); strings.HasPrefix(d, top+string(filepath.Separator)); d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if m := st.Mode().Perm(); m&0o011 != 0o011 {
			if err := os.Chmod(d, m|0o011); err != nil {
				return err
			}
		}
	}
	return nil
}
