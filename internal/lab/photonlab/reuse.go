// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// A flavor other than generic is built from generic's objects: the flavors
// share the tree and signing and differ in a few options (aws: its host
// name and CONFIG_LOCALVERSION), so kbuild, given the flavor's .config in
// generic's build directory, recompiles only what those options reach
// (fixdep's per-option records), makes the flavor's own certificates and
// links. It must run at generic's path: objtool's build records its
// directory, and in a copy elsewhere objtool is rebuilt and with it every
// object. So generic's directory is copied aside (keepSuffix), the flavor
// is built in it and renamed to the flavor's directory, and the copy is
// renamed back. The flavor's vmlinux names generic's directory as its
// compilation directory, as a distribution's debug information names a
// build root that is gone. While the flavor builds, generic's path holds
// it: nothing may read generic's build during Prepare.
//
// What kbuild would not remake from the flavor's config is removed from
// the borrowed directory first (genericOnly): certs/, which holds
// generic's own module signing key (kbuild makes the flavor one of its
// own, as a clean build does) and the certificate list built from it, and
// the build counter (.version: uname -v's #N counts the flavor's builds).
const keepSuffix = ".keep"

// genericOnly are the paths of generic's build directory a flavor built
// from it must not inherit.
var genericOnly = []string{"certs", ".version"}

// borrowGenericBuild readies generic's build directory for fb and returns
// it, and the function that hands it over to fb and puts generic's back.
func (p *preparer) borrowGenericBuild(ctx context.Context, fb flavorBuild) (string, func() error, error) {
	generic := p.l.BuildDir
	keep := generic + keepSuffix
	if err := restoreGenericBuild(generic); err != nil {
		return "", nil, err
	}
	partial := keep + ".partial"
	// cp -a keeps the times, so generic's own next build finds its objects
	// up to date; it shares their blocks where the file system can.
	start := time.Now()
	if err := p.run.run(ctx, p.l.Dir, nil, "cp", "-a", "--reflink=auto", generic, partial); err != nil {
		return "", nil, fmt.Errorf("copying %s aside: %w", generic, err)
	}
	if err := os.Rename(partial, keep); err != nil {
		return "", nil, err
	}
	p.log.Info("building from generic's objects", "uname", fb.k.String(), "dir", generic, "kept", keep,
		"copy_took", time.Since(start).Round(time.Millisecond))
	for _, rel := range genericOnly {
		if err := os.RemoveAll(filepath.Join(generic, rel)); err != nil {
			return "", nil, err
		}
	}
	config, err := os.ReadFile(fb.fk.Config)
	if err != nil {
		return "", nil, err
	}
	if err := writeFileAtomic(filepath.Join(generic, ".config"), config); err != nil {
		return "", nil, err
	}
	handOver := func() error {
		if err := os.RemoveAll(fb.fk.BuildDir); err != nil {
			return err
		}
		if err := os.Rename(generic, fb.fk.BuildDir); err != nil {
			return err
		}
		return os.Rename(keep, generic)
	}
	return generic, handOver, nil
}

// restoreGenericBuild undoes an interrupted borrow: while the kept copy
// exists it is generic's build, and generic's path may hold another
// flavor's half-built kernel (or nothing). A half-made copy is removed.
func restoreGenericBuild(generic string) error {
	keep := generic + keepSuffix
	if _, err := os.Stat(keep); errors.Is(err, os.ErrNotExist) {
		return os.RemoveAll(keep + ".partial")
	} else if err != nil {
		return err
	}
	if err := os.RemoveAll(generic); err != nil {
		return err
	}
	if err := os.Rename(keep, generic); err != nil {
		return err
	}
	return os.RemoveAll(keep + ".partial")
}
