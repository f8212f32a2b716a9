// SPDX-License-Identifier: Apache-2.0

package build

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/klpkit/klpkit/internal/atomicfile"
)

// exportDebug copies what explains a build into Options.DebugDir: the
// original, patched and patch objects of every unit, the patched files,
// the generated module directory and a log. buildErr, when set, goes into
// the log.
func (r *runner) exportDebug(buildErr error) error {
	dir := r.opts.DebugDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	copyFile := func(src, rel string) error {
		if src == "" {
			return nil
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil // not produced before the failure
		}
		return atomicfile.WriteFile(filepath.Join(dir, rel), data, 0o644)
	}
	for _, u := range r.objs {
		for _, c := range []struct{ src, kind string }{{u.orig, "orig"}, {u.patched, "patched"}, {u.patch, "patch"}} {
			if err := copyFile(c.src, filepath.Join(c.kind, u.obj)); err != nil {
				return err
			}
		}
	}
	if r.ov != nil {
		for _, rel := range r.ov.changed {
			if err := copyFile(r.ov.path(rel), filepath.Join("patched-src", rel)); err != nil {
				return err
			}
		}
	}
	for _, f := range []string{"klpkit-hook.c", "Kbuild", r.name + ".mod.c"} {
		if err := copyFile(filepath.Join(r.work, "module", f), filepath.Join("module", f)); err != nil {
			return err
		}
	}
	log := fmt.Sprintf("module: %s\nkernel: %s\ncompiler: %s\n", r.name, r.tree.Release, r.cc)
	for _, o := range r.res.Objects {
		log += fmt.Sprintf("object %s (%s): changed %v new %v cached %v\n", o.Path, o.Target, o.Changed, o.New, o.Cached)
	}
	for _, w := range r.res.Warnings {
		log += "warning: " + w + "\n"
	}
	if buildErr != nil {
		log += "error: " + buildErr.Error() + "\n"
	}
	log += "\nkbuild link output:\n" + r.linkLog
	return atomicfile.WriteFile(filepath.Join(dir, "build.log"), []byte(log), 0o644)
}
