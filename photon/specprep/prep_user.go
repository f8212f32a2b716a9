// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"

	"github.com/klpkit/klpkit/internal/asuser"
)

// prepUser says who runs GNU patch and xz: nil for this process (not
// root, or BuildAsRoot). The default is BuildDir's owner when that is not
// root, else nobody, as build.DefaultBuildUser picks for a tree.
func prepUser(opts *PrepOptions) (*asuser.User, error) {
	if !asuser.IsRoot() || opts.BuildAsRoot {
		return nil, nil
	}
	if bu := opts.BuildUser; bu != nil {
		if bu.UID == 0 || bu.GID == 0 {
			return nil, fmt.Errorf("photon: Prep: BuildUser is root (%d:%d); set BuildAsRoot to run patch and xz as root", bu.UID, bu.GID)
		}
		return &asuser.User{UID: bu.UID, GID: bu.GID}, nil
	}
	u, err := asuser.Owner(opts.BuildDir)
	if err != nil {
		return nil, fmt.Errorf("photon: Prep: %w", err)
	}
	if u == nil {
		u = asuser.Nobody()
	}
	return u, nil
}

// setupPatch prepares cmd, GNU patch, to run in the current directory as
// the build user. The user gets buildDir's directories (never its files:
// patch replaces a file by renaming a new one over it, and a file only
// root may read stays so) and reaches the current directory through a
// descriptor, whoever may pass the directories above it. patch copies
// its input to $TMPDIR, which is then a directory of the user's own in
// buildDir, reached the same way. done undoes what setupPatch made.
func (r *prepRunner) setupPatch(cmd *exec.Cmd) (done func(), err error) {
	if r.as == nil {
		cmd.Dir = r.cwd
		return func() {}, nil
	}
	if !underRoot(r.cwd, r.buildDir) {
		// The source directory stays root's.
		return nil, fmt.Errorf("patch runs as the build user %s only in the build directory, not in %s (or set BuildAsRoot, --build-as-root)", r.as, r.cwd)
	}
	if !r.dirsGiven {
		if err := asuser.OwnDirs(r.ctx, r.as, r.buildDir); err != nil {
			return nil, fmt.Errorf("giving the build directory's directories to the build user %s (or set BuildAsRoot, --build-as-root): %w", r.as, err)
		}
		r.dirsGiven = true
	}
	tmp, err := os.MkdirTemp(r.buildDir, ".klpkit-patch-tmp-")
	if err != nil {
		return nil, err
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	f, err := os.Open(tmp)
	if err == nil {
		err = asuser.Own(r.as, tmp)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		cleanup()
		return nil, err
	}
	tmpdir := tmp
	if runtime.GOOS == "linux" {
		cmd.ExtraFiles = []*os.File{f} // fd 3 in the child
		tmpdir = "/proc/self/fd/3"
	}
	cmd.Env = append(os.Environ(), "TMPDIR="+tmpdir)
	setupDone, err := asuser.Setup(cmd, r.as, r.cwd)
	if err != nil {
		f.Close()
		cleanup()
		return nil, err
	}
	return func() {
		setupDone()
		f.Close()
		cleanup()
	}, nil
}
