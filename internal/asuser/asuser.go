// SPDX-License-Identifier: Apache-2.0

// Package asuser runs the programs that come with a kernel tree (make of
// its Makefiles, the compilers kbuild calls, scripts/, objtool, genksyms)
// as an unprivileged user when klpkit itself runs as root.
//
// Why a fixed uid and not a user namespace: a kernel tree from a source
// RPM is code from that package, and the only thing a build needs root for
// is loading the module. A process in a user namespace whose root maps to
// the real root still owns every root-owned file on the host, so it
// protects nothing; one whose root maps to an unprivileged uid is the same
// as running as that uid, with more moving parts (a uid range to
// allocate, kernels and CI containers that forbid nesting namespaces). A
// plain setuid/setgid (and no supplementary groups) to a chosen user does
// what is needed and works on every kernel klpkit supports. What that user
// writes stays world-readable, so the rest of the pipeline, running as
// root, reads it as before.
//
// The user needs to reach two kinds of places: the tree, which is often in
// root's home (mode 0700, so no other user can pass through it), and the
// build's own work directory, whose files go to the compiler by absolute
// path. The tree is reached through an open descriptor: the process starts
// in /proc/self/fd/<n>, which the kernel lets a process follow for its own
// descriptors whoever owns the directories above, and kbuild names
// everything relative to its tree. The work directory is klpkit's own, so
// it is given to the user (chown) and must be reachable by path.
package asuser

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"
	"strings"
)

// User is the identity the tree's programs run as. A nil *User means the
// caller's own identity (no change).
type User struct {
	UID, GID uint32
}

func (u *User) String() string {
	if u == nil {
		return "the caller"
	}
	if pw, err := user.LookupId(strconv.FormatUint(uint64(u.UID), 10)); err == nil {
		return fmt.Sprintf("%s (uid %d, gid %d)", pw.Username, u.UID, u.GID)
	}
	return fmt.Sprintf("uid %d (gid %d)", u.UID, u.GID)
}

// NobodyUID and NobodyGID are the fallback when the system has no user
// named nobody: the kernel's overflow ids, present in every container's
// id map.
const (
	NobodyUID = 65534
	NobodyGID = 65534
)

// Nobody returns the system's nobody user, or 65534:65534.
func Nobody() *User {
	if u, err := Lookup("nobody"); err == nil {
		return u
	}
	return &User{UID: NobodyUID, GID: NobodyGID}
}

// ErrBadSpec means Lookup was given a user it cannot resolve.
var ErrBadSpec = errors.New("not a user")

// Lookup resolves "name", "uid", "name:group" or "uid:gid". A name without
// a group takes the user's primary group; a bare uid without a passwd
// entry takes a gid equal to the uid. Root (uid 0) is refused: the build
// user exists to not be root.
func Lookup(spec string) (*User, error) {
	name, group, hasGroup := strings.Cut(spec, ":")
	if name == "" || (hasGroup && group == "") {
		return nil, fmt.Errorf("build user %q: %w: want name, uid, name:group or uid:gid", spec, ErrBadSpec)
	}
	u := &User{}
	if id, err := strconv.ParseUint(name, 10, 32); err == nil {
		u.UID, u.GID = uint32(id), uint32(id)
		if pw, err := user.LookupId(name); err == nil {
			if g, err := strconv.ParseUint(pw.Gid, 10, 32); err == nil {
				u.GID = uint32(g)
			}
		}
	} else {
		pw, err := user.Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("build user %q: %w: %w", spec, ErrBadSpec, err)
		}
		uid, err1 := strconv.ParseUint(pw.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(pw.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("build user %q: %w: ids %s:%s are not numbers", spec, ErrBadSpec, pw.Uid, pw.Gid)
		}
		u.UID, u.GID = uint32(uid), uint32(gid)
	}
	if hasGroup {
		if id, err := strconv.ParseUint(group, 10, 32); err == nil {
			u.GID = uint32(id)
		} else {
			g, err := user.LookupGroup(group)
			if err != nil {
				return nil, fmt.Errorf("build user %q: %w: %w", spec, ErrBadSpec, err)
			}
			id, err := strconv.ParseUint(g.Gid, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("build user %q: %w: gid %s is not a number", spec, ErrBadSpec, g.Gid)
			}
			u.GID = uint32(id)
		}
	}
	if u.UID == 0 || u.GID == 0 {
		return nil, fmt.Errorf("build user %q: %w: it is root (use the opt-out to build as root)", spec, ErrBadSpec)
	}
	return u, nil
}

// AccessError means the build user cannot read or write a directory the
// build needs. What says what the build does there.
type AccessError struct {
	User  *User
	Path  string
	Write bool
	What  string
	Err   error
}

func (e *AccessError) Error() string {
	need := "read"
	if e.Write {
		need = "write"
	}
	return fmt.Sprintf("the build user, %s, cannot %s %s (%s): %v", e.User, need, e.Path, e.What, e.Err)
}

func (e *AccessError) Unwrap() error { return e.Err }
