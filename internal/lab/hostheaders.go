// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// hostHeadersMark, in each tree the lab installs on the host, names the
// toolchain root it came from.
const hostHeadersMark = ".klplab-root"

// installHeaders puts the kernel headers that a toolchain root holds at
// rel (usr/src/linux-headers-<release>) at the same paths under the host's
// root directory hostRoot, with the trees they lead to (Debian's -common
// headers, which the Makefile includes by absolute path, and linux-kbuild,
// where scripts/ and tools/ link), as Debian's package would install them.
// The lab directory is under root's home, which the unprivileged build
// user cannot pass, and build.Run reaches a kbuild tree by path; inside
// the root the same paths hold the same files. Files are hard links into
// the root where one file system holds both. A tree is replaced only when
// its mark says the lab installed it; one there from elsewhere is an
// error. It returns the headers' path on the host and the directories it
// installed (none when they were current).
func installHeaders(root, rel, hostRoot string, log *slog.Logger) (string, []string, error) {
	dirs, err := headerTrees(root, rel)
	if err != nil {
		return "", nil, err
	}
	current := true
	for _, d := range dirs {
		target := filepath.Join(hostRoot, d)
		mark, err := os.ReadFile(filepath.Join(target, hostHeadersMark))
		switch {
		case err == nil:
			current = current && string(mark) == root+"\n"
		case errors.Is(err, os.ErrNotExist):
			if _, err := os.Lstat(target); err == nil {
				return "", nil, fmt.Errorf("install headers: %s exists and the lab did not put it there (no %s): remove it or install the headers elsewhere", target, hostHeadersMark)
			}
			current = false
		default:
			return "", nil, fmt.Errorf("install headers: %w", err)
		}
	}
	dest := filepath.Join(hostRoot, rel)
	if current {
		return dest, nil, nil
	}
	var installed []string
	for _, d := range dirs {
		target := filepath.Join(hostRoot, d)
		log.Info("installing headers on the host", "dir", target, "from", root)
		tmp := filepath.Join(filepath.Dir(target), ".klplab-"+filepath.Base(target)+".tmp")
		if err := os.RemoveAll(tmp); err != nil {
			return "", nil, err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return "", nil, fmt.Errorf("install headers: %w", err)
		}
		if err := copyTree(filepath.Join(root, d), tmp); err != nil {
			os.RemoveAll(tmp)
			return "", nil, fmt.Errorf("install headers %s: %w", d, err)
		}
		if err := os.WriteFile(filepath.Join(tmp, hostHeadersMark), []byte(root+"\n"), 0o644); err != nil {
			return "", nil, fmt.Errorf("install headers: %w", err)
		}
		if err := os.RemoveAll(target); err != nil {
			return "", nil, fmt.Errorf("install headers: %w", err)
		}
		if err := os.Rename(tmp, target); err != nil {
			return "", nil, fmt.Errorf("install headers: %w", err)
		}
		installed = append(installed, target)
	}
	return dest, installed, nil
}

// headerTrees returns rel and the directories (relative to root) it leads
// to: the targets of its top-level links (their parent: linux-kbuild's
// directory) and the directory its Makefile includes by absolute path.
func headerTrees(root, rel string) ([]string, error) {
	dirs := []string{rel}
	add := func(d string) {
		for _, have := range dirs {
			if have == d {
				return
			}
		}
		dirs = append(dirs, d)
	}
	abs := filepath.Join(root, rel)
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, fmt.Errorf("install headers: %w", err)
	}
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		link, err := os.Readlink(filepath.Join(abs, e.Name()))
		if err != nil {
			return nil, err
		}
		if filepath.IsAbs(link) {
			return nil, fmt.Errorf("install headers: %s/%s links to the absolute %s", abs, e.Name(), link)
		}
		target := filepath.Clean(filepath.Join(rel, link))
		if target == ".." || strings.HasPrefix(target, "../") {
			return nil, fmt.Errorf("install headers: %s/%s leads out of the root", abs, e.Name())
		}
		add(filepath.Dir(target))
	}
	for _, inc := range makefileIncludes(filepath.Join(abs, "Makefile")) {
		add(strings.TrimPrefix(filepath.Dir(inc), "/"))
	}
	return dirs, nil
}

// makefileIncludes returns the absolute paths of a Makefile's "include /..."
// lines (Debian's -amd64 headers include -common's Makefile).
func makefileIncludes(makefile string) []string {
	data, err := os.ReadFile(makefile)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == "include" && filepath.IsAbs(f[1]) {
			out = append(out, filepath.Clean(f[1]))
		}
	}
	return out
}

// copyTree copies src to the new directory dst: directories with their
// modes, links as they are, regular files hard-linked (copied across file
// systems).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(out, 0o755); err != nil {
				return err
			}
			return os.Chmod(out, info.Mode().Perm())
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, out)
		case d.Type().IsRegular():
			if os.Link(p, out) == nil {
				return nil
			}
			return copyFile(p, out, info.Mode().Perm()) // another file system
		default:
			return fmt.Errorf("%s: not a file, directory or link", p)
		}
	})
}

func copyFile(from, to string, mode fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
