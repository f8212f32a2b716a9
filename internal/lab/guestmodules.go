// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// GuestModules are the lab kernel's own modules (paths under
// /lib/modules/<release>/kernel) that the lab keeps from the image package,
// for guests that load them and for builds that patch them: kpatch's
// integration suite patches xfs (which needs libcrc32c, whose softdep is
// crc32c, i.e. crc32c_generic under TCG: QEMU's default CPU has no SSE4.2
// for crc32c-intel), joydev and pcspkr. The whole image is ~400 MB of
// modules; these few are what the tests need.
var GuestModules = []string{
	"fs/xfs/xfs.ko",
	"lib/libcrc32c.ko",
	"crypto/crc32c_generic.ko",
	"drivers/input/joydev.ko",
	"drivers/input/misc/pcspkr.ko",
}

const markModules = ".done-modules"

// modulesDir is where the kept modules live, laid out as /lib/modules:
// <kdir>/modules/<release>/kernel/<path>.
func (p *preparer) modulesDir() string { return filepath.Join(p.kdir, "modules") }

// modules unpacks GuestModules from the image package for labs whose image
// step ran before the modules were kept (a fresh lab gets them in image).
func (p *preparer) modules(ctx context.Context, l *Lab) error {
	l.ModulesDir = p.modulesDir()
	if p.done(markModules) {
		return nil
	}
	deb, err := p.download(ctx, p.k.imagePackage())
	if err != nil {
		return err
	}
	p.log.Info("unpacking modules", "from", filepath.Base(deb), "modules", strings.Join(GuestModules, " "))
	err = extractDeb(ctx, p.run, deb, p.moduleMembers())
	os.RemoveAll(filepath.Dir(deb))
	if err != nil {
		return err
	}
	return p.mark(markModules)
}

// moduleMembers maps the image package's members of GuestModules to their
// places in modulesDir.
func (p *preparer) moduleMembers() map[string]string {
	want := make(map[string]string, len(GuestModules)+2)
	for _, m := range GuestModules {
		rel := filepath.Join(p.k.Release, "kernel", m)
		want[filepath.ToSlash(filepath.Join("lib/modules", rel))] = filepath.Join(p.modulesDir(), rel)
	}
	return want
}

// ModuleFiles returns the kept modules as paths relative to ModulesDir
// (e.g. 6.1.0-56-amd64/kernel/fs/xfs/xfs.ko), which is also where each
// belongs under a guest's /lib/modules. It returns an error wrapping
// ErrNotPrepared when the lab has none (prepared before modules were kept).
func (l *Lab) ModuleFiles() ([]string, error) {
	if l.ModulesDir == "" {
		return nil, fmt.Errorf("lab %s keeps no kernel modules: %w", l.Dir, ErrNotPrepared)
	}
	var out []string
	err := filepath.WalkDir(l.ModulesDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".ko") {
			rel, err := filepath.Rel(l.ModulesDir, p)
			if err != nil {
				return err
			}
			out = append(out, rel)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("lab %s: %w: %w", l.Dir, err, ErrNotPrepared)
	}
	if err != nil {
		return nil, fmt.Errorf("lab modules: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("lab %s: no modules in %s: %w", l.Dir, l.ModulesDir, ErrNotPrepared)
	}
	return out, nil
}
