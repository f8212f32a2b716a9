// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klpkit/klpkit/internal/atomicfile"
)

// The rt flavor's source tree. Debian builds the rt images from its source
// with the rt featureset's patches on top (debian/patches-rt). Bookworm's
// linux-source-6.1 does not carry them (its /usr/src holds only the
// tarball; bullseye's linux-source-5.10 still ships
// linux-patch-5.10-rt.patch.xz, but the archive mirror has no 5.10 rt
// image or -dbg), and the mirror the lab reaches does not serve the linux
// source package's files (linux_<version>.debian.tar.xz, which holds
// debian/patches-rt, answers 404). What the binary archive does hold of
// the patched tree is its headers: linux-headers-<abi>-common-rt
// (installed with the rt headers) is the patched tree's include/,
// arch/*/include and Makefiles. So the rt tree is linux-source-6.1 with
// those files laid over it and the few Kconfig changes the rt config
// needs (rtKconfig), and it is checked: olddefconfig must keep every
// symbol's value of the rt image's config (sourcePrepare). Objects of the
// files the rt patches change outside the headers package (C files and
// the private headers beside them: the scheduler, printk, locking, some
// drivers) are not the rt kernel's; other objects are built from the same
// sources, headers and config as Debian's.

// rtCommonHeaders is the headers tree of the rt-patched source that apt
// installs with linux-headers-<release>: /usr/src/linux-headers-<abi>-common-rt.
func (k Kernel) rtCommonHeaders(root string) string {
	abi := strings.TrimSuffix(k.Release, "-rt-amd64")
	return filepath.Join(root, "usr/src", "linux-headers-"+abi+"-common-rt")
}

// overlayRT copies every regular file of the rt headers tree over tree
// and returns how many it copied and how many it changed. Links (the
// tree's scripts and tools lead to linux-kbuild) are left alone.
func overlayRT(headers, tree string) (copied, changed int, err error) {
	err = filepath.WalkDir(headers, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(headers, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dest := filepath.Join(tree, rel)
		if old, err := os.ReadFile(dest); err == nil && bytes.Equal(old, data) {
			copied++
			return nil
		}
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return err
		}
		if err := atomicfile.WriteFile(dest, data, 0o644); err != nil {
			return err
		}
		copied++
		changed++
		return nil
	})
	if err == nil && copied == 0 {
		err = fmt.Errorf("%s holds no files", headers)
	}
	return copied, changed, err
}

// rtKconfig are the rt patches' Kconfig changes that the rt config's
// symbols need (Kconfig files are not in the headers): x86 supports RT,
// lazy preemption and atomic consoles, and i915 is no longer kept from
// PREEMPT_RT. Symbols defined twice merge, so additions are appended.
var rtKconfig = []struct {
	file        string
	remove, add string
}{
	{file: "kernel/Kconfig.preempt", add: "\nconfig HAVE_PREEMPT_LAZY\n\tbool\n\nconfig PREEMPT_LAZY\n\tdef_bool y if HAVE_PREEMPT_LAZY && PREEMPT_RT\n"},
	{file: "arch/x86/Kconfig", add: "\nconfig HAVE_ATOMIC_CONSOLE\n\tbool\n\nconfig X86\n\tselect ARCH_SUPPORTS_RT\n\tselect HAVE_PREEMPT_LAZY\n\tselect HAVE_ATOMIC_CONSOLE\n"},
	{file: "drivers/gpu/drm/i915/Kconfig", remove: "\tdepends on !PREEMPT_RT\n"},
}

// applyRTKconfig makes the rtKconfig changes in tree.
func applyRTKconfig(tree string) error {
	for _, c := range rtKconfig {
		path := filepath.Join(tree, c.file)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if c.remove != "" {
			if n := bytes.Count(data, []byte(c.remove)); n != 1 {
				return fmt.Errorf("%s: %q appears %d times, want once", path, c.remove, n)
			}
			data = bytes.Replace(data, []byte(c.remove), nil, 1)
		}
		data = append(data, c.add...)
		if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// sameAssignments reports the difference between two configs' symbol
// values (the CONFIG_ lines, in any order: the appended Kconfig entries
// sit elsewhere in the menu than the rt patches put them), as "-" lines
// only want has and "+" lines only got has; empty when they agree.
func sameAssignments(want, got io.Reader) ([]string, error) {
	w, err := assignments(want)
	if err != nil {
		return nil, err
	}
	g, err := assignments(got)
	if err != nil {
		return nil, err
	}
	var diff []string
	for l := range w {
		if !g[l] {
			diff = append(diff, "-"+l)
		}
	}
	for l := range g {
		if !w[l] {
			diff = append(diff, "+"+l)
		}
	}
	sort.Strings(diff)
	return diff, nil
}

func assignments(r io.Reader) (map[string]bool, error) {
	set := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "CONFIG_") {
			set[l] = true
		}
	}
	return set, sc.Err()
}

// rtTree turns an unpacked linux-source tree into the rt tree: the rt
// headers laid over it and the rt Kconfig changes.
func (p *preparer) rtTree(tree string) error {
	headers := p.k.rtCommonHeaders(p.cfg.Root)
	copied, changed, err := overlayRT(headers, tree)
	if err != nil {
		return fmt.Errorf("rt headers: %w", err)
	}
	p.log.Info("laid the rt headers over the source", "from", headers, "files", copied, "changed", changed)
	if err := applyRTKconfig(tree); err != nil {
		return fmt.Errorf("rt Kconfig: %w", err)
	}
	return nil
}

// requireRTConfig checks that olddefconfig kept every symbol of the rt
// image's config (want) in the tree's (got): the tree offers what the rt
// kernel was configured with, PREEMPT_RT first.
func (p *preparer) requireRTConfig(want, got string) error {
	w, err := os.Open(want)
	if err != nil {
		return err
	}
	defer w.Close()
	g, err := os.Open(got)
	if err != nil {
		return err
	}
	defer g.Close()
	diff, err := sameAssignments(w, g)
	if err != nil {
		return err
	}
	if len(diff) > 0 {
		if len(diff) > 10 {
			diff = append(diff[:10], "...")
		}
		return fmt.Errorf("olddefconfig in the rt tree changed the rt config %s (%s): the tree does not offer what the rt kernel was built with", want, strings.Join(diff, " "))
	}
	return nil
}
