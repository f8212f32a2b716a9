// SPDX-License-Identifier: Apache-2.0

package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/internal/atomicfile"
)

// objectCache keeps original objects between runs. An entry's key hashes
// everything its bytes depend on: the kernel release, the config, the
// compiler, the object's command line and the contents of its source and
// of every header kbuild recorded as a dependency. Entries are written to
// a temporary file and renamed, so an interrupted run never leaves a
// partial object behind.
type objectCache struct {
	dir string // "" disables the cache
}

// key returns the cache key of an original object, or "" when a
// dependency cannot be read (the object is then compiled, not cached).
func (c *objectCache) key(base string, tree string, cmd *cmdFile, steps [][]string) string {
	if c.dir == "" {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", base, cmd.Object)
	for _, s := range steps {
		fmt.Fprintf(h, "%s\x00", strings.Join(s, "\x01"))
	}
	files := append([]string{cmd.Source}, cmd.Deps...)
	for _, f := range files {
		p := f
		if !filepath.IsAbs(p) {
			p = filepath.Join(tree, f)
		}
		fh, err := os.Open(p)
		if err != nil {
			return ""
		}
		fmt.Fprintf(h, "%s\x00", f)
		_, err = io.Copy(h, fh)
		fh.Close()
		if err != nil {
			return ""
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (c *objectCache) path(key string) string {
	return filepath.Join(c.dir, "objects", key[:2], key+".o")
}

// get copies a cached object to dst; false when there is none.
func (c *objectCache) get(key, dst string) bool {
	if key == "" {
		return false
	}
	data, err := os.ReadFile(c.path(key))
	if err != nil {
		return false
	}
	return os.WriteFile(dst, data, 0o644) == nil
}

// put stores src under key atomically; failures only cost a later rebuild.
func (c *objectCache) put(key, src string) error {
	if key == "" {
		return nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(c.path(key), data, 0o644)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
