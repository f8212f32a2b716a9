// SPDX-License-Identifier: Apache-2.0

package build

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/klpkit/klpkit/internal/flock"
)

// recordCommands has kbuild build, in one make run, every object to
// compile whose command file the tree lacks (a prepared tree, and the
// users of a changed header): one kbuild start-up and make's -j for all of
// them instead of one serialised `make <object>` each. A failure is left
// to the per-object run, which names the object.
func (r *runner) recordCommands(ctx context.Context) error {
	if r.oot != nil {
		return nil // kbuild records the module's commands as it builds it
	}
	// The first step that runs the tree's programs.
	if err := r.checkBuildUser(ctx); err != nil {
		return err
	}
	var missing []string
	for _, u := range r.objs {
		if _, err := readCmdFile(r.tree.Dir, u.obj); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if _, err := os.Stat(filepath.Join(r.tree.Dir, strings.TrimSuffix(u.obj, ".o")+".c")); err == nil {
			missing = append(missing, u.obj)
		}
	}
	if len(missing) < 2 {
		return nil // the per-object run costs the same
	}
	unlock, err := flock.Lock(ctx, filepath.Join(r.tree.Dir, ".klpkit-make.lock"), 0o644)
	if err != nil {
		return err
	}
	defer unlock()
	r.event(StageCompile, 0, len(missing), "kbuild records the commands of %d object(s)", len(missing))
	args := append(slices.Clone(r.tree.MakeArgs), "-j"+strconv.Itoa(r.opts.Jobs))
	if out, err := r.kbuilder().make(ctx, args, missing); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.log.Debug("make of the objects failed; each is retried alone", "err", err, "output", lastLines(string(out), 20))
	}
	return nil
}
