// SPDX-License-Identifier: Apache-2.0

//go:build unix

package asuser

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Reacher tells, without running anything, whether u may reach a path by
// its name: search permission on every directory from / down to it, and
// read permission on the path itself (search too, for a directory), from
// the mode bits that apply to u's uid and gid (Setup gives u no
// supplementary groups). It remembers each directory's answer, so that
// many paths in one tree cost a stat per directory. ACLs and security
// modules are not read: confirm a path it finds blocked with CheckPath.
type Reacher struct {
	u    *User
	pass map[string]bool
}

// NewReacher returns a Reacher for u; a nil u reaches everything.
func NewReacher(u *User) *Reacher { return &Reacher{u: u, pass: map[string]bool{}} }

// Blocked returns the first directory on the way to p, an absolute path
// without symbolic links, that u may not pass, or p itself when u may
// not read it; "" when u reaches it (or p does not exist).
func (r *Reacher) Blocked(p string) string {
	if r.u == nil {
		return ""
	}
	p = filepath.Clean(p)
	for d := "/"; d != p; {
		if !r.passable(d) {
			return d
		}
		rest := strings.TrimPrefix(strings.TrimPrefix(p, d), "/")
		next, _, _ := strings.Cut(rest, "/")
		d = filepath.Join(d, next)
	}
	st, err := os.Stat(p)
	if err != nil {
		return ""
	}
	if (st.IsDir() && !r.passable(p)) || !allows(st, r.u, 4) {
		return p
	}
	return ""
}

// passable reports whether u may search the directory d.
func (r *Reacher) passable(d string) bool {
	ok, seen := r.pass[d]
	if !seen {
		st, err := os.Stat(d)
		ok = err == nil && st.IsDir() && allows(st, r.u, 1)
		r.pass[d] = ok
	}
	return ok
}

// allows reports whether the mode bits of st that apply to u grant need
// (4 read, 2 write, 1 search).
func allows(st os.FileInfo, u *User, need uint32) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true // unknown here: CheckPath decides
	}
	bits := uint32(st.Mode().Perm())
	switch {
	case sys.Uid == u.UID:
		bits >>= 6
	case sys.Gid == u.GID:
		bits >>= 3
	}
	return bits&need == need
}

// CheckPath tells whether u can read path by its name (and enter it, for
// a directory), as the tree's programs do when they follow a symbolic
// link out of the tree. A refusal is an *AccessError whose Err is
// fs.ErrPermission; what says what the build does there. A nil u can do
// anything.
func CheckPath(ctx context.Context, u *User, path, what string) error {
	if u == nil {
		return nil
	}
	return runTest(ctx, u, `test -r "$1" && { test ! -d "$1" || test -x "$1"; }`, path, "/", &AccessError{User: u, Path: path, What: what})
}
