// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ListFile is the name, at the top of a root, of the List it was built
// from.
const ListFile = "klpkit-toolchain.list"

// listHeader starts a list's text, and so its key: its format number
// changes when the way roots are built does (v2: alternatives links; v3:
// every link checked in the finished root), so that roots built the old
// way are not used.
const listHeader = "# klpkit toolchain root v3: name version arch sha256 size url\n"

// Entry is one package of a root: what to download and how to check it.
type Entry struct {
	Name, Version, Arch string
	SHA256              string
	Size                int64
	URL                 string
}

// List is a root's packages, sorted by name: the root is reproducible from
// it (every .deb is named by URL and checked by SHA-256).
type List []Entry

// String is the list's text form, one package a line, as in ListFile.
func (l List) String() string {
	var b strings.Builder
	b.WriteString(listHeader)
	for _, e := range l {
		fmt.Fprintf(&b, "%s %s %s %s %d %s\n", e.Name, e.Version, e.Arch, e.SHA256, e.Size, e.URL)
	}
	return b.String()
}

// Key names the root built from l: the SHA-256 of its text form.
func (l List) Key() string {
	sum := sha256.Sum256([]byte(l.String()))
	return hex.EncodeToString(sum[:])
}

// Find returns the entry named name.
func (l List) Find(name string) (Entry, bool) {
	for _, e := range l {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// ParseList reads a list in the form List.String writes; it must be sorted
// by name, without duplicates, so that one set of packages has one key.
func ParseList(text string) (List, error) {
	var l List
	for i, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 6 {
			return nil, fmt.Errorf("list line %d: want 6 fields, have %d", i+1, len(f))
		}
		size, err := strconv.ParseInt(f[4], 10, 64)
		if err != nil || size <= 0 {
			return nil, fmt.Errorf("list line %d: bad size %q", i+1, f[4])
		}
		if !isSHA256(f[3]) {
			return nil, fmt.Errorf("list line %d: bad SHA-256 %q", i+1, f[3])
		}
		if !strings.HasPrefix(f[5], "http://") && !strings.HasPrefix(f[5], "https://") {
			return nil, fmt.Errorf("list line %d: %q is not an http(s) URL", i+1, f[5])
		}
		l = append(l, Entry{Name: f[0], Version: f[1], Arch: f[2], SHA256: strings.ToLower(f[3]), Size: size, URL: f[5]})
	}
	if len(l) == 0 {
		return nil, fmt.Errorf("list names no package")
	}
	if !sort.SliceIsSorted(l, func(i, j int) bool { return l[i].Name < l[j].Name }) {
		return nil, fmt.Errorf("list is not sorted by name")
	}
	for i := 1; i < len(l); i++ {
		if l[i].Name == l[i-1].Name {
			return nil, fmt.Errorf("list names %s twice", l[i].Name)
		}
	}
	return l, nil
}
