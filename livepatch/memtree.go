// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// memFile is a file's state while patches are staged in memory.
type memFile struct {
	exists bool
	lines  []string // without '\n'; a CRLF file keeps its '\r'
	noEOL  bool     // the last line has no '\n'
	mode   fs.FileMode
}

func (m *memFile) clone() *memFile {
	c := *m
	c.lines = slices.Clone(m.lines)
	return &c
}

func (m *memFile) equal(o *memFile) bool {
	if m.exists != o.exists {
		return false
	}
	if !m.exists {
		return true
	}
	return m.noEOL == o.noEOL && m.mode == o.mode && slices.Equal(m.lines, o.lines)
}

// content renders the file as bytes.
func (m *memFile) content() []byte {
	var b strings.Builder
	for i, l := range m.lines {
		b.WriteString(l)
		if i < len(m.lines)-1 || !m.noEOL {
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

func fileFromBytes(data []byte, mode fs.FileMode) *memFile {
	s := string(data)
	m := &memFile{exists: true, mode: mode}
	if s == "" {
		return m
	}
	m.noEOL = !strings.HasSuffix(s, "\n")
	m.lines = strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return m
}

// memTree stages changes to a tree in memory: files are read once, patched
// in memory, and written only when every patch applied.
type memTree struct {
	root     string
	files    map[string]*memFile // current state
	pristine map[string]*memFile // as read from disk
	order    []string            // paths in first-touched order

	rename func(oldpath, newpath string) error // os.Rename; tests inject failures
}

func newMemTree(root string) *memTree {
	return &memTree{root: root, files: map[string]*memFile{}, pristine: map[string]*memFile{}, rename: os.Rename}
}

func (t *memTree) hostPath(rel string) string {
	return filepath.Join(t.root, filepath.FromSlash(rel))
}

// get returns the staged state of rel, reading it from disk on first use.
func (t *memTree) get(rel string) (*memFile, error) {
	if f, ok := t.files[rel]; ok {
		return f, nil
	}
	f, err := t.load(rel)
	if err != nil {
		return nil, err
	}
	t.pristine[rel] = f
	t.files[rel] = f.clone()
	t.order = append(t.order, rel)
	return t.files[rel], nil
}

func (t *memTree) load(rel string) (*memFile, error) {
	if err := t.checkParents(rel); err != nil {
		return nil, err
	}
	p := t.hostPath(rel)
	st, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return &memFile{}, nil
	}
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", rel, st.Mode().Type())
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return fileFromBytes(data, st.Mode().Perm()), nil
}

// checkParents refuses to follow a symlinked directory out of the tree.
func (t *memTree) checkParents(rel string) error {
	dir := filepath.Dir(filepath.FromSlash(rel))
	for dir != "." && dir != string(filepath.Separator) {
		st, err := os.Lstat(filepath.Join(t.root, dir))
		if err == nil && st.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s: parent %s is a symlink: %w", rel, filepath.ToSlash(dir), ErrUnsafePath)
		}
		dir = filepath.Dir(dir)
	}
	return nil
}

// changed lists the paths whose staged state differs from the disk.
func (t *memTree) changed() []string {
	var out []string
	for _, p := range t.order {
		if !t.files[p].equal(t.pristine[p]) {
			out = append(out, p)
		}
	}
	return out
}
