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
	var found *Entry
	var searched []string
	err := d.eachSources(ctx, pkg, func(at string, files []sourceFile) bool {
		for _, e := range files {
			if e.file == file {
				found = &e.Entry
				return true
			}
		}
		searched = append(searched, at)
		return false
	})
	if err != nil {
		return Entry{}, err
	}
	if found == nil {
		return Entry{}, fmt.Errorf("%w: %s of source package %s (searched %s)", ErrNoSourceFile, file, pkg, strings.Join(searched, ", "))
	}
	return *found, nil
}

// eachSources gives use the files of source package pkg that each suite
// and component's verified Sources index lists (at names them:
// "bookworm/main"), in order, until use says stop.
func (d *Debian) eachSources(ctx context.Context, pkg string, use func(at string, files []sourceFile) (stop bool)) error {
	return d.eachIndex(ctx, func(c string) string { return c + "/source/" }, "Sources",
		func(at, base string, text []byte) (bool, error) {
			files, err := sourceFiles(text, base, pkg)
			if err != nil {
				return false, err
			}
			return use(at, files), nil
		})
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
	out := map[string]Entry{}
	err := d.eachSources(ctx, pkg, func(_ string, files []sourceFile) bool {
		for _, e := range files {
			if _, ok := out[e.file]; !ok {
				out[e.file] = e.Entry
			}
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
