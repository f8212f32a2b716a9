// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/procgroup"
)

// BuildUser is the unprivileged identity that runs the programs coming
// with the kernel tree (make of its Makefiles, the compiler kbuild
// calls, scripts/, objtool, genksyms) when the caller is root. A tree from
// a source RPM is code from that package; only loading the module needs
// root. See Options.BuildUser. It is klpkit.BuildUser, which Photon's
// %prep takes too (kernelsrc.PrepareOptions).
type BuildUser = klpkit.BuildUser

// LookupBuildUser resolves "name", "uid", "name:group" or "uid:gid" (the
// CLIs' --build-user). Root is refused: use Options.BuildAsRoot.
func LookupBuildUser(spec string) (*BuildUser, error) {
	u, err := asuser.Lookup(spec)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	return &BuildUser{UID: u.UID, GID: u.GID}, nil
}

// DefaultBuildUser is who runs a root caller's build of tree when
// Options.BuildUser is nil: the tree's owner when that is not root (its
// programs can do nothing their owner could not), else the system's
// nobody (65534:65534 without one). A caller that is not root gets nil:
// its programs already run unprivileged, as the caller.
func DefaultBuildUser(tree string) (*BuildUser, error) {
	if !asuser.IsRoot() {
		return nil, nil
	}
	u, err := asuser.Owner(tree)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	if u == nil {
		u = asuser.Nobody()
	}
	return &BuildUser{UID: u.UID, GID: u.GID}, nil
}

// ErrBuildUserAccess means the build user cannot read or write a
// directory the build needs; the error names the directory, the user and
// what to do.
var ErrBuildUserAccess = errors.New("the build user cannot reach a directory the build needs")

// buildUser says who runs the tree's programs: nil for the caller itself
// (not root, or Options.BuildAsRoot).
func buildUser(opts *Options, tree string) (*asuser.User, error) {
	if !asuser.IsRoot() || opts.BuildAsRoot {
		return nil, nil
	}
	bu := opts.BuildUser
	if bu == nil {
		var err error
		if bu, err = DefaultBuildUser(tree); err != nil {
			return nil, err
		}
	}
	if bu.UID == 0 || bu.GID == 0 {
		return nil, fmt.Errorf("build: %w: BuildUser is root (%d:%d); set BuildAsRoot to build as root", ErrBadOptions, bu.UID, bu.GID)
	}
	return &asuser.User{UID: bu.UID, GID: bu.GID}, nil
}

// setupBuildUser says who runs the tree's programs and gives the work
// directory to that user.
func (r *runner) setupBuildUser() error {
	u, err := buildUser(&r.opts, r.tree.Dir)
	if err != nil || u == nil {
		return err
	}
	r.as = u
	r.log.Info("the kernel tree's programs run as the build user", "user", u.String())
	if err := asuser.Own(u, r.work); err != nil {
		return fmt.Errorf("build: giving the work directory to the build user: %w", err)
	}
	return nil
}

// checkBuildUser checks, before the first of the tree's programs runs
// (Check runs none), that the build user can read the tree and the kbuild
// tree, follow their links out (checkTreeLinks) and write the work
// directory, whose files reach the compiler by path.
func (r *runner) checkBuildUser(ctx context.Context) error {
	u := r.as
	if u == nil || r.userChecked {
		return nil
	}
	if err := asuser.Check(ctx, u, r.work, true, false, "the compiler writes the objects there"); err != nil {
		return userAccessError(err, "choose a work directory whose parents let it through (the default, under the temporary directory, does)")
	}
	// The compiler runs in the tree, reached through a descriptor; make
	// links the module in the kbuild tree, which it must reach by path
	// (kbuild takes its own directory's real path, and make -C its name).
	if err := asuser.Check(ctx, u, r.tree.Dir, false, true, "the compiler runs there"); err != nil {
		return userAccessError(err, "make the tree readable by it (directories r-x, files r--), or choose the tree's owner as the build user")
	}
	if err := asuser.Check(ctx, u, r.tree.KbuildDir, false, false, "make links the module there and needs its path"); err != nil {
		return userAccessError(err, "give a kbuild tree whose parents let it through (e.g. /lib/modules/<release>/build, kpatch-build --kbuild), make it readable, or choose the tree's owner as the build user")
	}
	if err := r.checkTreeLinks(ctx); err != nil {
		return err
	}
	r.userChecked = true
	return nil
}

// userAccessError adds what to do to an *asuser.AccessError.
func userAccessError(err error, fix string) error {
	var ae *asuser.AccessError
	if !errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("build: %w: %w: %s, or build as root (Options.BuildAsRoot, --build-as-root)", ErrBuildUserAccess, err, fix)
}

// kbuildTree runs kbuild for objects whose command files the tree lacks.
// The build user runs it in the tree when it may write there and reach it
// by path; otherwise (a root-owned tree, such as one a package installed
// or a shared cache, or one under root's home) in a copy of the tree in
// the work directory: its directories are the
// user's, its files hard links to the tree's (copies across file
// systems), which the user may replace but not change. The command files
// and objects kbuild made there are then copied into the tree, by this
// process, as a make in the tree would have left them.
type kbuildTree struct {
	dir  string
	as   *asuser.User
	root *rootEnv
	work string
	log  *slog.Logger

	mu       sync.Mutex
	checked  bool
	writable bool
	copyDir  string
}

// make runs `make args... objs...` for the tree and returns its output.
func (k *kbuildTree) make(ctx context.Context, args, objs []string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	dir, err := k.runDir(ctx)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "make", append(slices.Clone(args), objs...)...)
	procgroup.StopOnCancel(cmd, waitDelay)
	done, err := k.root.setup(cmd, k.as, dir)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = k.root.run(cmd)
	done()
	if dir != k.dir {
		// What kbuild made is kept even when another object failed.
		if cerr := k.copyBack(objs); cerr != nil && err == nil {
			err = cerr
		}
	}
	return out.Bytes(), err
}

// runDir is where make runs: the tree, or the user's copy of it.
func (k *kbuildTree) runDir(ctx context.Context) (string, error) {
	if k.as == nil {
		return k.dir, nil
	}
	if !k.checked {
		// make needs the tree's path as well as write access (kbuild takes
		// its directory's real path).
		err := asuser.Check(ctx, k.as, k.dir, true, false, "kbuild records objects' commands")
		if err != nil && ctx.Err() != nil {
			return "", ctx.Err()
		}
		k.checked, k.writable = true, err == nil
	}
	if k.writable {
		return k.dir, nil
	}
	if k.copyDir == "" {
		dst := filepath.Join(k.work, "kbuild-tree")
		k.log.Info("the build user may not write the tree: kbuild runs in a linked copy", "tree", k.dir, "copy", dst)
		if err := os.RemoveAll(dst); err != nil {
			return "", err
		}
		// Without a .config, every file counts as a source.
		var generated time.Time
		if st, err := os.Stat(filepath.Join(k.dir, ".config")); err == nil {
			generated = st.ModTime()
		} else {
			generated = time.Now().Add(time.Hour)
		}
		if err := linkTree(ctx, k.dir, dst, k.as, generated); err != nil {
			return "", fmt.Errorf("build: a copy of the tree %s the build user may write: %w", k.dir, err)
		}
		k.copyDir = dst
	}
	return k.copyDir, nil
}

// copyBack copies each object and its command file that kbuild made in
// the copy into the tree.
func (k *kbuildTree) copyBack(objs []string) error {
	for _, obj := range objs {
		for _, rel := range []string{obj, cmdFilePath("", obj)} {
			src := filepath.Join(k.copyDir, rel)
			st, err := os.Lstat(src)
			if err != nil || !st.Mode().IsRegular() {
				continue // not made
			}
			if old, err := os.Lstat(filepath.Join(k.dir, rel)); err == nil && os.SameFile(st, old) {
				continue // the tree's own file, linked
			}
			if err := copyFileAtomic(src, filepath.Join(k.dir, rel), 0o644); err != nil {
				return fmt.Errorf("build: copying %s from the build user's copy into the tree: %w", rel, err)
			}
		}
	}
	return nil
}

// mkdirForUser makes dir, under the work directory, and gives it and the
// directories made above it to the build user, who writes there.
func (r *runner) mkdirForUser(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if r.as == nil {
		return nil
	}
	for d := dir; strings.HasPrefix(d, r.work+string(filepath.Separator)); d = filepath.Dir(d) {
		if err := asuser.Own(r.as, d); err != nil {
			return err
		}
	}
	return nil
}

// linkCommand prepares a command of the module's link to run in dir as
// the build user (klp.LinkOptions.Command).
func (r *runner) linkCommand(cmd *exec.Cmd, dir string) (func(), error) {
	return r.root.setup(cmd, r.as, dir)
}

// newCRCTool is newCRCTool for the tree, run as the build user.
func (r *runner) newCRCTool() (*crcTool, error) {
	t, err := newCRCTool(r.tree.Dir, r.config)
	if err == nil {
		t.as, t.root = r.as, r.root
	}
	return t, err
}

// kbuilder is the run's kbuildTree (one that runs make in the tree as this
// process for a runner made without newRun).
func (r *runner) kbuilder() *kbuildTree {
	if r.kbuild == nil {
		r.kbuild = &kbuildTree{dir: r.tree.Dir, as: r.as, root: r.root, work: r.work, log: r.log}
	}
	return r.kbuild
}
