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
)

// The rt flavor's source tree. Debian builds the rt images from its
// source with the rt featureset's patches on top (debian/patches-rt,
// applied by quilt push --fuzz=0, that is patch -p1 with no fuzz).
// Bookworm's linux-source-6.1 does not carry them, and the kernel's own
// source package files are gone from the archive once a newer upload
// replaces them, but an older upload's linux_<v>.debian.tar.xz often
// stays in bookworm-security. So the rt tree is linux-source-6.1 with the
// series of the newest upload that the kernel's changelog lists and the
// archive still serves (rtseries.go), corrected by what the changelog says
// changed in the rt series since (dropped patches left out, refreshed
// patches left out only when they touch another architecture's files;
// any other rt change, a new rt version first, fails prepare). The result
// is checked against what is exact: every file of
// linux-headers-<abi>-common-rt (the rt tree's include/, arch/*/include,
// Makefiles and Kconfigs) must equal the tree's, the tree's
// localversion-rt must be the rt version the changelog last updated to,
// and olddefconfig must keep every symbol of the rt image's config
// (sourcePrepare). A failed check fails prepare: the lab never builds a
// tree it cannot show to be the rt kernel's.

// rtCommonHeaders is the headers tree of the rt-patched source that apt
// installs with linux-headers-<release>: /usr/src/linux-headers-<abi>-common-rt.
func (k Kernel) rtCommonHeaders(root string) string {
	abi := strings.TrimSuffix(k.Release, "-rt-amd64")
	return filepath.Join(root, "usr/src", "linux-headers-"+abi+"-common-rt")
}

// rtChangelog is the Debian changelog of the linux source package the rt
// headers were built from, as their package installs it.
func (k Kernel) rtChangelog(root string) string {
	abi := strings.TrimSuffix(k.Release, "-rt-amd64")
	return filepath.Join(root, "usr/share/doc", "linux-headers-"+abi+"-common-rt", "changelog.Debian.gz")
}

// compareRTHeaders checks that every regular file of the rt headers tree
// equals tree's file of the same name, and returns how many it compared.
// Links (the headers' scripts and tools lead to linux-kbuild) are not
// the tree's files.
func compareRTHeaders(headers, tree string) (int, error) {
	n := 0
	var differ []string
	err := filepath.WalkDir(headers, func(path string, d fs.DirEntry, err error) error {
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
		want, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		if got, err := os.ReadFile(filepath.Join(tree, rel)); err != nil || !bytes.Equal(got, want) {
			differ = append(differ, rel)
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if n == 0 {
		return 0, fmt.Errorf("%s holds no files", headers)
	}
	if len(differ) > 0 {
		more := ""
		if len(differ) > 10 {
			more = fmt.Sprintf(" and %d more", len(differ)-10)
			differ = differ[:10]
		}
		return n, fmt.Errorf("%w: %d of the %d files of %s differ from the tree's: %s%s", ErrRTTree, len(differ), n, headers, strings.Join(differ, " "), more)
	}
	return n, nil
}

// sameAssignments reports the difference between two configs' symbol
// values (the CONFIG_ lines, in any order), as "-" lines
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
