// SPDX-License-Identifier: Apache-2.0

//go:build unix

package asuser

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
)

// Setup makes cmd run as u with dir as its working directory. Call it after
// anything else that sets cmd.SysProcAttr (it adds to it), and call done
// once cmd has started or failed to. A nil u only sets cmd.Dir.
//
// On Linux the directory is opened here and cmd starts in
// /proc/self/fd/<n>: the child changes directory after it has dropped to
// u, and through its own descriptor it gets there even when u may not pass
// through the directories above (root's home). cmd sees the real path as
// its working directory.
func Setup(cmd *exec.Cmd, u *User, dir string) (done func(), err error) {
	if u == nil {
		cmd.Dir = dir
		return func() {}, nil
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// No Groups: the child drops root's supplementary groups too.
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: u.UID, Gid: u.GID}
	if dir == "" || runtime.GOOS != "linux" {
		cmd.Dir = dir
		return func() {}, nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.IsDir() {
		f.Close()
		if err == nil {
			err = &fs.PathError{Op: "chdir", Path: dir, Err: syscall.ENOTDIR}
		}
		return nil, err
	}
	cmd.Dir = "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	return func() { f.Close() }, nil
}

// Check tells whether u can list and enter dir, and with write create
// files in it, reaching it as Setup's commands do (viaFD) or by its path
// (a directory whose files go to the tree's programs by absolute path). A
// refusal is an *AccessError whose Err is fs.ErrPermission; what says what
// the build does there. A nil u can do anything.
func Check(ctx context.Context, u *User, dir string, write, viaFD bool, what string) error {
	if u == nil {
		return nil
	}
	test := `test -d "$1" -a -r "$1" -a -x "$1"`
	if write {
		test += ` -a -w "$1"`
	}
	target, cwd := dir, "/"
	if viaFD {
		target, cwd = ".", dir
	}
	return runTest(ctx, u, test, target, cwd, &AccessError{User: u, Path: dir, Write: write, What: what})
}

// runTest runs the shell test on target in cwd as u; a refusal is refused
// with its Err set.
func runTest(ctx context.Context, u *User, test, target, cwd string, refused *AccessError) error {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", test, "sh", target)
	done, err := Setup(cmd, u, cwd)
	if err != nil {
		refused.Err = err
		return refused
	}
	// Via the descriptor the test runs in the directory: a user that cannot
	// enter it fails to start, which is the same answer.
	err = cmd.Run()
	done()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var exit *exec.ExitError
	var perr *fs.PathError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit), errors.As(err, &perr) && errors.Is(perr.Err, syscall.EACCES):
		refused.Err = fs.ErrPermission
	default:
		refused.Err = err
	}
	return refused
}

// Own gives path (not what is below it) to u, so that u can create files
// in a directory the build made. A nil u changes nothing.
func Own(u *User, path string) error {
	if u == nil {
		return nil
	}
	return os.Lchown(path, int(u.UID), int(u.GID))
}

// IsRoot reports whether the process runs as root, when the tree's
// programs are given to a build user.
func IsRoot() bool { return os.Geteuid() == 0 }

// Owner returns the owner of path, or nil when root owns it. A group of
// root is never taken: nobody's group stands in for it.
func Owner(path string) (*User, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || sys.Uid == 0 {
		return nil, nil
	}
	u := &User{UID: sys.Uid, GID: sys.Gid}
	if u.GID == 0 {
		u.GID = Nobody().GID
	}
	return u, nil
}
