// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
)

// ErrNeedsRoot: running inside a toolchain root takes root privileges (a
// mount namespace and chroot).
var ErrNeedsRoot = errors.New("toolchain: running inside a toolchain root needs root privileges")

// rootPath is the PATH inside a root.
const rootPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Command returns a command that Start runs inside the root. A name
// without a slash is looked up in the root's PATH directories; the
// environment is PATH=rootPath and LC_ALL=C unless the caller sets Env.
func (r *Root) Command(ctx context.Context, name string, args ...string) (*exec.Cmd, error) {
	p, err := r.lookPath(name)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, p, args...)
	cmd.Args[0] = name
	cmd.Env = []string{"PATH=" + rootPath, "LC_ALL=C"}
	return cmd, nil
}

// LookPath finds the program name (bare, or an absolute path) in the
// root as the root's PATH would, and returns its path inside the root.
func (r *Root) LookPath(name string) (string, error) { return r.lookPath(name) }

// Environ returns env (the host's environment for a command) with the
// root's PATH in place of the host's.
func Environ(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, e := range env {
		if !strings.HasPrefix(e, "PATH=") {
			out = append(out, e)
		}
	}
	return append(out, "PATH="+rootPath)
}

// lookPath finds name in the root as the root's PATH would.
func (r *Root) lookPath(name string) (string, error) {
	dirs := strings.Split(rootPath, ":")
	if strings.Contains(name, "/") {
		if !path.IsAbs(name) {
			return "", fmt.Errorf("%s: a command inside a root is named by an absolute path or a bare name", name)
		}
		dirs = []string{""}
	}
	root, err := os.OpenRoot(r.Dir)
	if err != nil {
		return "", err
	}
	defer root.Close()
	for _, d := range dirs {
		p := path.Join(d, name)
		// os.Root follows the root's own links and refuses ones that leave it.
		if fi, err := root.Stat(strings.TrimPrefix(p, "/")); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in toolchain root %s: %w", name, r.Dir, fs.ErrNotExist)
}

// Output runs name inside the root with binds mounted and dir (a path
// inside the root; "" for /) as its working directory, and returns its
// standard output; a failure's error carries its standard error.
func (r *Root) Output(ctx context.Context, binds []string, dir, name string, args ...string) ([]byte, error) {
	cmd, err := r.Command(ctx, name, args...)
	if err != nil {
		return nil, err
	}
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := r.Start(cmd, binds); err != nil {
		return nil, err
	}
	if err := cmd.Wait(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s (in toolchain root %s): %w: %s", strings.Join(cmd.Args, " "), r.Dir, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// mountPoint checks that the bind target dir (absolute, as on the host)
// lies in the root through directories only, and creates what is missing.
func (r *Root) mountPoint(dir string, isDir bool) (string, error) {
	if !filepath.IsAbs(dir) || filepath.Clean(dir) == "/" {
		return "", fmt.Errorf("bind %q: want an absolute directory other than /", dir)
	}
	rel := strings.TrimPrefix(filepath.Clean(dir), "/")
	root, err := os.OpenRoot(r.Dir)
	if err != nil {
		return "", err
	}
	defer root.Close()
	cur := ""
	for _, part := range strings.Split(rel, "/") {
		cur = path.Join(cur, part)
		fi, err := root.Lstat(cur)
		if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("bind %s: %s is a symlink in the toolchain root", dir, cur)
		}
	}
	if isDir {
		err = root.MkdirAll(rel, 0o755)
	} else {
		if err = root.MkdirAll(path.Dir(rel), 0o755); err == nil {
			var f *os.File
			if f, err = root.OpenFile(rel, os.O_CREATE|os.O_RDONLY, 0o644); err == nil {
				f.Close()
			}
		}
	}
	if err != nil {
		return "", fmt.Errorf("bind %s: mount point: %w", dir, err)
	}
	return filepath.Join(r.Dir, rel), nil
}
