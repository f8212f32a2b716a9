// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Start starts cmd (from Command) chrooted into the root, in a mount
// namespace of its own where the host's /dev and /proc, a fresh /tmp, and
// each of binds (absolute host paths: the kernel tree, its output) are
// mounted at their own paths in the root. The mounts vanish with the
// namespace when the command ends; only their empty mount points stay in
// the root (none for paths under /tmp, which is the namespace's tmpfs).
// cmd.SysProcAttr, when set, is kept: Credential runs the command as a
// build user (the chroot comes first, then the user's credentials).
//
// Why chroot and not an unprivileged user namespace: the Go runtime is
// multithreaded, and unshare(CLONE_NEWUSER) refuses multithreaded
// callers, so a user namespace with bind mounts would need a re-executed
// helper process (a library cannot own its caller's main) or external
// tools. A mount namespace can be unshared by one locked thread, from
// which the command is forked; it needs root, as installing livepatches
// does anyway.
func (r *Root) Start(cmd *exec.Cmd, binds []string) error {
	if os.Geteuid() != 0 {
		return ErrNeedsRoot
	}
	type mount struct {
		src   string
		isDir bool
	}
	var mounts []mount
	for _, b := range append([]string{"/dev", "/proc"}, binds...) {
		fi, err := os.Stat(b)
		if err != nil {
			return fmt.Errorf("bind %s: %w", b, err)
		}
		mounts = append(mounts, mount{filepath.Clean(b), fi.IsDir()})
	}
	tmp, err := r.mountPoint("/tmp", true)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: it leaves the host's mount
		// namespace, so the runtime must end it with this goroutine.
		runtime.LockOSThread()
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return fmt.Errorf("toolchain root %s: unshare mount namespace: %w", r.Dir, err)
			}
			if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				return fmt.Errorf("toolchain root %s: make mounts private: %w", r.Dir, err)
			}
			// /tmp first: binds under the host's /tmp (test directories)
			// then get their mount points in the tmpfs, not in the root.
			if err := unix.Mount("tmpfs", tmp, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
				return fmt.Errorf("toolchain root %s: tmpfs on /tmp: %w", r.Dir, err)
			}
			opened := map[string]bool{}
			for _, m := range mounts {
				if err := r.openAncestors(m.src, opened); err != nil {
					return err
				}
				dst, err := r.mountPoint(m.src, m.isDir)
				if err != nil {
					return err
				}
				if err := unix.Mount(m.src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
					return fmt.Errorf("toolchain root %s: bind %s: %w", r.Dir, m.src, err)
				}
			}
			if cmd.SysProcAttr == nil {
				cmd.SysProcAttr = &syscall.SysProcAttr{}
			}
			cmd.SysProcAttr.Chroot = r.Dir
			if cmd.Dir == "" {
				cmd.Dir = "/"
			}
			// Forked from this thread, the command inherits its namespace.
			if err := cmd.Start(); err != nil {
				return fmt.Errorf("toolchain root %s: %w", r.Dir, err)
			}
			return nil
		}()
	}()
	return <-errc
}

// openAncestors mounts an empty tmpfs (mode 0755) over each empty
// directory of the root on the way to the bind target dir that others may
// not pass (base-files' /root is 0700), so that a build user reaches a
// bind below it (a tree in root's home) as it would reach it by a mount
// point the root lacked. Only the namespace sees the tmpfs; a directory
// with contents is left as it is, and the walk stops at a link (which
// mountPoint refuses).
func (r *Root) openAncestors(dir string, opened map[string]bool) error {
	parts := strings.Split(strings.TrimPrefix(filepath.Clean(dir), "/"), "/")
	cur := r.Dir
	for _, part := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if err != nil || !fi.IsDir() {
			return nil // missing (mountPoint makes it 0755) or a link
		}
		if opened[cur] || fi.Mode().Perm()&0o001 != 0 {
			continue
		}
		if entries, err := os.ReadDir(cur); err != nil || len(entries) > 0 {
			continue
		}
		if err := unix.Mount("tmpfs", cur, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
			return fmt.Errorf("toolchain root %s: tmpfs on %s for the bind %s: %w", r.Dir, strings.TrimPrefix(cur, r.Dir), dir, err)
		}
		opened[cur] = true
	}
	return nil
}
