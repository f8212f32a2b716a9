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
	// SHA256 is the package file's SHA-256 in lower-case hex. SHA512 is
	// its SHA-512 instead, for repositories that list only that (some
	// RPM repositories do); exactly one of the two is set.
	SHA256, SHA512 string
	Size           int64
	URL            string
}

// sha512Prefix marks a SHA-512 in a list line's digest field. A SHA-256
// is written bare, so lists of SHA-256 entries, and their keys, are the
// same as before SHA-512 entries existed.
const sha512Prefix = "sha512:"

// digest is the entry's digest field in the list's text form.
func (e Entry) digest() string {
	if e.SHA512 != "" {
		return sha512Prefix + e.SHA512
	}
	return e.SHA256
}

// checkDigestFields says whether e names its file by exactly one
// well-formed strong digest: a package no digest checks is never fetched.
func (e Entry) checkDigestFields() error {
	switch {
	case e.SHA256 != "" && e.SHA512 != "":
		return fmt.Errorf("%s %s: both a SHA-256 and a SHA-512 (a list entry names one)", e.Name, e.Version)
	case e.SHA512 != "":
		if !isHex(e.SHA512, 128) {
			return fmt.Errorf("%s %s: bad SHA-512 %q", e.Name, e.Version, e.SHA512)
		}
	case !isSHA256(e.SHA256):
		return fmt.Errorf("%s %s: bad or missing SHA-256 %q", e.Name, e.Version, e.SHA256)
	}
	return nil
}

// List is a root's packages, sorted by name: the root is reproducible from
// it (every package is named by URL and checked by SHA-256 or SHA-512).
type List []Entry

// String is the list's text form, one package a line, as in ListFile.
func (l List) String() string {
	var b strings.Builder
	b.WriteString(listHeader)
	for _, e := range l {
		fmt.Fprintf(&b, "%s %s %s %s %d %s\n", e.Name, e.Version, e.Arch, e.digest(), e.Size, e.URL)
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
		e := Entry{Name: f[0], Version: f[1], Arch: f[2], Size: size, URL: f[5]}
		if sum, ok := strings.CutPrefix(f[3], sha512Prefix); ok {
			e.SHA512 = strings.ToLower(sum)
			if !isHex(e.SHA512, 128) {
				return nil, fmt.Errorf("list line %d: bad SHA-512 %q", i+1, sum)
			}
		} else {
			e.SHA256 = strings.ToLower(f[3])
			if !isSHA256(e.SHA256) {
				return nil, fmt.Errorf("list line %d: bad SHA-256 %q", i+1, f[3])
			}
		}
		if !strings.HasPrefix(f[5], "http://") && !strings.HasPrefix(f[5], "https://") {
			return nil, fmt.Errorf("list line %d: %q is not an http(s) URL", i+1, f[5])
		}
		l = append(l, e)
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
