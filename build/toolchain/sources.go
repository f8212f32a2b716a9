// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNoSourceFile: no suite's Sources index lists the file asked for
// among the files of the source package asked for.
var ErrNoSourceFile = errors.New("toolchain: file not in any Sources index")

// SourceFile finds file (an upstream tarball, a .dsc, a Debian patch set)
// among the files of source package pkg in the suites' Sources indexes and
// returns it as an Entry for Download. Every link of the chain is checked:
// the suite's InRelease against the keyring, its Sources index against the
// SHA-256 InRelease lists, and Download checks the file against the SHA-256
// and size the index lists. The first suite listing the file wins; an
// error wrapping ErrNoSourceFile says none does.
func (d *Debian) SourceFile(ctx context.Context, pkg, file string) (Entry, error) {
	f := fetcher{client: d.Client}
	var searched []string
	for _, s := range d.Suites {
		base := strings.TrimSuffix(s.URL, "/")
		rel, err := d.release(ctx, f, base, s.Name)
		if err != nil {
			return Entry{}, err
		}
		for _, c := range s.components() {
			text, err := d.signedIndex(ctx, f, base, s.Name, c+"/source/", "Sources", rel)
			if err != nil {
				return Entry{}, err
			}
			files, err := sourceFiles(text, base, pkg)
			if err != nil {
				return Entry{}, fmt.Errorf("%s %s/source/Sources: %w", s.Name, c, err)
			}
			for _, e := range files {
				if e.file == file {
					return e.Entry, nil
				}
			}
			searched = append(searched, s.Name+"/"+c)
		}
	}
	return Entry{}, fmt.Errorf("%w: %s of source package %s (searched %s)", ErrNoSourceFile, file, pkg, strings.Join(searched, ", "))
}

// sourceFile is one file of a source package's paragraph.
type sourceFile struct {
	Entry
	file string // its name, in the paragraph's Directory
}

// sourceFiles reads the files of every paragraph of source package pkg in
// a Sources index: Directory names where they are below base, and each
// Checksums-Sha256 line is "sha256 size name".
func sourceFiles(text []byte, base, pkg string) ([]sourceFile, error) {
	var out []sourceFile
	err := parseControl(text, func(p paragraph) error {
		if p["Package"] != pkg {
			return nil
		}
		version := p["Version"]
		what := pkg + " " + version
		if version == "" {
			return fmt.Errorf("%s: no Version", pkg)
		}
		dir := p["Directory"]
		if dir == "" || strings.HasPrefix(dir, "/") || strings.Contains("/"+dir+"/", "/../") {
			return fmt.Errorf("%s: bad Directory %q", what, truncate(dir, 120))
		}
		for _, line := range strings.Split(p["Checksums-Sha256"], "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			if len(f) != 3 || !isSHA256(f[0]) {
				return fmt.Errorf("%s: Checksums-Sha256: malformed line %q", what, truncate(line, 120))
			}
			size, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil || size < 0 {
				return fmt.Errorf("%s: Checksums-Sha256: bad size in %q", what, truncate(line, 120))
			}
			if f[2] == "." || f[2] == ".." || strings.Contains(f[2], "/") {
				return fmt.Errorf("%s: Checksums-Sha256: bad file name %q", what, truncate(f[2], 120))
			}
			out = append(out, sourceFile{
				Entry: Entry{Name: pkg, Version: version, Arch: "source", SHA256: strings.ToLower(f[0]), Size: size, URL: strings.TrimSuffix(base, "/") + "/" + dir + "/" + f[2]},
				file:  f[2],
			})
		}
		return nil
	})
	return out, err
}

// SourceFiles returns every file of source package pkg that the suites'
// Sources indexes list, by name (the first suite listing a name wins),
// each checked as SourceFile's; one pass for a caller trying several
// uploads.
func (d *Debian) SourceFiles(ctx context.Context, pkg string) (map[string]Entry, error) {
	f := fetcher{client: d.Client}
	out := map[string]Entry{}
	for _, s := range d.Suites {
		base := strings.TrimSuffix(s.URL, "/")
		rel, err := d.release(ctx, f, base, s.Name)
		if err != nil {
			return nil, err
		}
		for _, c := range s.components() {
			text, err := d.signedIndex(ctx, f, base, s.Name, c+"/source/", "Sources", rel)
			if err != nil {
				return nil, err
			}
			files, err := sourceFiles(text, base, pkg)
			if err != nil {
				return nil, fmt.Errorf("%s %s/source/Sources: %w", s.Name, c, err)
			}
			for _, e := range files {
				if _, ok := out[e.file]; !ok {
					out[e.file] = e.Entry
				}
			}
		}
	}
	return out, nil
}
