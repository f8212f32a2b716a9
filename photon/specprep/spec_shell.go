// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/klpkit/klpkit/internal/atomicfile"
)

// copy implements cp [-a|-r|-p|-f ...] SRC... DST inside the build tree.
func (r *prepRunner) copy(l SpecLine, args []string) error {
	recursive := false
	var paths []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			for _, f := range a[1:] {
				switch f {
				case 'a', 'r', 'R':
					recursive = true
				case 'p', 'f', 'v':
				default:
					return r.fail(l, "cp option -%c is not supported", f)
				}
			}
			continue
		}
		paths = append(paths, a)
	}
	if len(paths) < 2 {
		return r.fail(l, "cp needs a source and a destination")
	}
	dstArg := paths[len(paths)-1]
	dst, err := r.inside(l, dstArg)
	if err != nil {
		return err
	}
	dstIsDir := false
	if fi, err := os.Stat(dst); err == nil && fi.IsDir() {
		dstIsDir = true
	}
	if len(paths) > 2 && !dstIsDir {
		return r.fail(l, "cp: %s is not a directory", dstArg)
	}
	for _, srcArg := range paths[:len(paths)-1] {
		src, err := r.inside(l, srcArg)
		if err != nil {
			return err
		}
		fi, err := os.Lstat(src)
		if err != nil {
			return r.fail(l, "cp: %v", err)
		}
		target := dst
		if dstIsDir {
			target = filepath.Join(dst, filepath.Base(src))
		}
		switch {
		case fi.IsDir() && !recursive:
			return r.fail(l, "cp: %s is a directory (no -r)", srcArg)
		case fi.IsDir():
			if into, ierr := copiesIntoItself(src, target); ierr != nil || into {
				return r.fail(l, "cp: cannot copy directory %s into itself (%s)", srcArg, dstArg)
			}
			err = copyTree(src, target, func(p string) error {
				if err := r.ctx.Err(); err != nil {
					return err
				}
				_, err := r.inside(l, p)
				return err
			}, func(p string) (*os.File, error) { return r.openInside(l, p) },
				func(at, link string) error { return r.linkStaysInside(l, at, link) })
		case fi.Mode().IsRegular():
			err = r.copyFile(l, src, target, fi.Mode().Perm())
		default:
			return r.fail(l, "cp: %s is not a regular file or directory", srcArg)
		}
		if err != nil {
			return r.fail(l, "cp: %v", err)
		}
	}
	return nil
}

// copiesIntoItself reports whether dst, with symlinks resolved, is the
// directory src or lies below it: copying would then walk its own output
// for ever, filling the disk.
func copiesIntoItself(src, dst string) (bool, error) {
	realSrc, err := filepath.EvalSymlinks(src)
	if err != nil {
		return false, err
	}
	realDst, err := resolveExisting(dst)
	if err != nil {
		return false, err
	}
	return underRoot(realDst, realSrc), nil
}

// copyTree copies src to dst; check vets each destination path, since an
// existing dst may hold symlinks that point elsewhere, open reads each
// file without following links out of the tree, and linkOK vets each
// symlink (copied as a link, never followed) where the copy puts it.
func copyTree(src, dst string, check func(string) error, open func(string) (*os.File, error), linkOK func(at, link string) error) error {
	return filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if err := check(target); err != nil {
			return err
		}
		switch {
		case fi.IsDir():
			return os.MkdirAll(target, 0o755)
		case fi.Mode().IsRegular():
			in, err := open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			return copyTo(in, target, fi.Mode().Perm())
		case fi.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := linkOK(target, link); err != nil {
				return err
			}
			return os.Symlink(link, target)
		}
		return fmt.Errorf("%s: unsupported file type", p)
	})
}

// linkStaysInside refuses a symlink to link placed at at unless it
// resolves inside the build directory from there: not absolute, no ".."
// after a name (the name may be a link itself, as in "up/../x"), and the
// leading ".." climbed from at's real directory, then the rest resolved
// through what exists, stay under the roots. The error names the link,
// never what it points to.
func (r *prepRunner) linkStaysInside(l SpecLine, at, link string) error {
	refuse := func() error {
		return r.fail(l, "cp: the symlink %s (to %q) would lead outside the build directory", at, link)
	}
	if filepath.IsAbs(link) || strings.HasPrefix(link, "/") {
		return refuse()
	}
	named := false
	for _, part := range strings.Split(link, "/") {
		switch part {
		case "", ".":
		case "..":
			if named {
				return refuse()
			}
		default:
			named = true
		}
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(at))
	if err != nil {
		return r.fail(l, "cp: %v", err)
	}
	real, err := resolveExisting(filepath.Join(dir, link))
	build, err1 := filepath.EvalSymlinks(r.buildDir)
	sources, err2 := filepath.EvalSymlinks(r.sourceDir)
	if err != nil || err1 != nil || err2 != nil || !underRoot(real, build, sources) {
		return refuse()
	}
	return nil
}

// copyFile copies the regular file src (checked by inside) to dst.
func (r *prepRunner) copyFile(l SpecLine, src, dst string, perm os.FileMode) error {
	in, err := r.openInside(l, src)
	if err != nil {
		return err
	}
	defer in.Close()
	return copyTo(in, dst, perm)
}

// copyTo writes in to dst with perm (plus the owner's write bit, which cp
// gives the copy's owner too).
func copyTo(in *os.File, dst string, perm os.FileMode) error {
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// sed supports only in-place literal substitution: sed -i 's/OLD/NEW/[g]' FILE...
// (Photon uses it to rewrite CONFIG_LOCALVERSION). Patterns with regular
// expression operators are refused rather than guessed.
func (r *prepRunner) sed(l SpecLine, args []string) error {
	if len(args) < 3 || args[0] != "-i" {
		return r.fail(l, "only \"sed -i 's/OLD/NEW/' FILE\" is supported")
	}
	if del, ok := parseSedDelete(args[1]); ok {
		return r.sedDelete(l, del, args[2:])
	}
	old, repl, global, err := parseSedSubst(args[1])
	if err != nil {
		return r.fail(l, "%v", err)
	}
	return r.sedInPlace(l, args[2:], func(text string) string {
		return applySed(text, sedEdit{old, repl, global})
	})
}

// sedInPlace is sed -i: each file, checked to lie inside the build area, is
// rewritten with edit applied, keeping its mode.
func (r *prepRunner) sedInPlace(l SpecLine, files []string, edit func(string) string) error {
	for _, f := range files {
		p, err := r.inside(l, f)
		if err != nil {
			return err
		}
		data, mode, err := r.readInside(l, p)
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(p, []byte(edit(string(data))), mode); err != nil {
			return err
		}
	}
	return nil
}

func parseSedSubst(expr string) (old, repl string, global bool, err error) {
	if len(expr) < 4 || expr[0] != 's' {
		return "", "", false, fmt.Errorf("sed expression %q is not s/OLD/NEW/", expr)
	}
	parts := strings.Split(expr[2:], expr[1:2])
	if len(parts) != 3 || parts[0] == "" {
		return "", "", false, fmt.Errorf("sed expression %q is not s/OLD/NEW/", expr)
	}
	switch parts[2] {
	case "":
	case "g":
		global = true
	default:
		return "", "", false, fmt.Errorf("sed flags %q are not supported", parts[2])
	}
	if strings.ContainsAny(parts[0], `\^$*[]`) || strings.ContainsAny(parts[1], `\&`) {
		return "", "", false, fmt.Errorf("sed expression %q uses regular expression syntax; only literal text is supported", expr)
	}
	// "." matches any character in sed; literal matching is only the same
	// when the text has none, so refuse dots in the pattern too.
	if strings.Contains(parts[0], ".") {
		return "", "", false, fmt.Errorf("sed pattern %q contains \".\"; only literal text is supported", parts[0])
	}
	return parts[0], parts[1], global, nil
}

// mkdir implements mkdir [-p] DIR... inside the build tree.
func (r *prepRunner) mkdir(l SpecLine, args []string) error {
	parents := false
	var dirs []string
	for _, a := range args {
		switch {
		case a == "-p":
			parents = true
		case strings.HasPrefix(a, "-"):
			return r.fail(l, "mkdir option %s is not supported", a)
		default:
			dirs = append(dirs, a)
		}
	}
	if len(dirs) == 0 {
		return r.fail(l, "mkdir needs a directory")
	}
	for _, d := range dirs {
		p, err := r.inside(l, d)
		if err != nil {
			return err
		}
		if parents {
			err = os.MkdirAll(p, 0o755)
		} else {
			err = os.Mkdir(p, 0o755)
		}
		if err != nil {
			return r.fail(l, "mkdir: %v", err)
		}
	}
	return nil
}

// sedRedirectRE matches "sed -e EXPR... IN > OUT" (one output redirection).
var sedRedirectRE = regexp.MustCompile(`^(sed\s.*\S)\s*>\s*(\S+)$`)

// sedToFile implements sed -e 's/A/B/[g]'... IN > OUT with literal edits.
func (r *prepRunner) sedToFile(l SpecLine, command, out string) error {
	words, err := shellWords(command)
	if err != nil {
		return r.fail(l, "%v", err)
	}
	var edits []sedEdit
	i := 1
	for ; i+1 < len(words) && words[i] == "-e"; i += 2 {
		old, repl, global, err := parseSedSubst(words[i+1])
		if err != nil {
			return r.fail(l, "%v", err)
		}
		edits = append(edits, sedEdit{old, repl, global})
	}
	if len(edits) == 0 || i != len(words)-1 {
		return r.fail(l, "only \"sed -e 's/OLD/NEW/'... IN > OUT\" is supported")
	}
	in, err := r.inside(l, words[i])
	if err != nil {
		return err
	}
	dst, err := r.inside(l, out)
	if err != nil {
		return err
	}
	data, mode, err := r.readInside(l, in)
	if err != nil {
		return err
	}
	text := string(data)
	for _, e := range edits {
		text = applySed(text, e)
	}
	// The output is no more readable than its input.
	return atomicfile.WriteFile(dst, []byte(text), mode)
}

// parseSedDelete accepts "/LITERAL/d" (delete the lines containing LITERAL),
// which Photon 4.0 esx uses on an out-of-tree driver's Makefile.
func parseSedDelete(expr string) (string, bool) {
	if len(expr) < 4 || expr[0] != '/' || !strings.HasSuffix(expr, "/d") {
		return "", false
	}
	lit := expr[1 : len(expr)-2]
	if lit == "" || strings.ContainsAny(lit, `/\^$*[].`) {
		return "", false
	}
	return lit, true
}

func (r *prepRunner) sedDelete(l SpecLine, lit string, files []string) error {
	return r.sedInPlace(l, files, func(text string) string {
		var kept strings.Builder
		for _, line := range strings.SplitAfter(text, "\n") {
			if !strings.Contains(line, lit) {
				kept.WriteString(line)
			}
		}
		return kept.String()
	})
}
