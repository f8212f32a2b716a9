// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"archive/tar"
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/needtest"
)

type tarEntry struct {
	name, link string
	typ        byte
	body       string
}

func makeTar(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644, Size: int64(len(e.body))}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		require.NoError(t, tw.WriteHeader(h))
		if e.typ == tar.TypeReg {
			_, err := tw.Write([]byte(e.body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

func TestUntarRefusesHostilePaths(t *testing.T) {
	cases := map[string][]tarEntry{
		"absolute":         {{name: "/etc/evil", typ: tar.TypeReg, body: "x"}},
		"dotdot":           {{name: "linux/../../evil", typ: tar.TypeReg, body: "x"}},
		"absolute symlink": {{name: "linux/l", typ: tar.TypeSymlink, link: "/etc"}},
		"escaping symlink": {{name: "linux/l", typ: tar.TypeSymlink, link: "../../etc"}},
		"through symlink": {
			{name: "linux/l", typ: tar.TypeSymlink, link: "."},
			{name: "linux/l/x", typ: tar.TypeReg, body: "x"},
		},
		"hardlink out": {{name: "linux/h", typ: tar.TypeLink, link: "../../etc/passwd"}},
		// Each target looks inside lexically; resolved, linux/d/m is in/.. .
		"symlink chain up": {
			{name: "linux/d/", typ: tar.TypeDir},
			{name: "linux/d/l", typ: tar.TypeSymlink, link: ".."},
			{name: "linux/d/m", typ: tar.TypeSymlink, link: "l/../.."},
		},
		"dotdot after a path not yet unpacked": {
			{name: "linux/a/x", typ: tar.TypeSymlink, link: "d/../../.."},
			{name: "linux/a/d", typ: tar.TypeSymlink, link: ".."},
		},
		"directory replaced by a symlink": {
			{name: "linux/a/d/", typ: tar.TypeDir},
			{name: "linux/a/x", typ: tar.TypeSymlink, link: "d/../.."},
			{name: "linux/a/d", typ: tar.TypeSymlink, link: ".."},
		},
		// linux/a/d is a file when x is checked, then becomes a link.
		"file replaced by a symlink": {
			{name: "linux/a/d", typ: tar.TypeReg, body: "x"},
			{name: "linux/a/x", typ: tar.TypeSymlink, link: "d/../.."},
			{name: "linux/a/d", typ: tar.TypeSymlink, link: ".."},
		},
		"hardlink to a symlink": {
			{name: "linux/a/b/l", typ: tar.TypeSymlink, link: "../../.."},
			{name: "linux/h", typ: tar.TypeLink, link: "linux/a/b/l"},
		},
		"device": {{name: "linux/dev", typ: tar.TypeChar}},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "in")
			require.NoError(t, os.Mkdir(dir, 0o755))
			err := untar(context.Background(), bytes.NewReader(makeTar(t, entries...)), dir)
			require.ErrorIs(t, err, ErrUnsafeArchive)
			_, statErr := os.Stat(filepath.Join(parent, "evil"))
			assert.True(t, os.IsNotExist(statErr))
		})
	}
}

func TestUntarKeepsInnerSymlinks(t *testing.T) {
	dir := t.TempDir()
	data := makeTar(t,
		tarEntry{name: "linux/Makefile", typ: tar.TypeReg, body: "all:\n"},
		tarEntry{name: "linux/tools/Makefile", typ: tar.TypeSymlink, link: "../Makefile"},
		tarEntry{name: "linux/copy", typ: tar.TypeLink, link: "linux/Makefile"},
	)
	require.NoError(t, untar(context.Background(), bytes.NewReader(data), dir))
	link, err := os.Readlink(filepath.Join(dir, "linux/tools/Makefile"))
	require.NoError(t, err)
	assert.Equal(t, "../Makefile", link)
	body, err := os.ReadFile(filepath.Join(dir, "linux/copy"))
	require.NoError(t, err)
	assert.Equal(t, "all:\n", string(body))
}

func FuzzUntar(f *testing.F) {
	f.Add([]byte{})
	var seed bytes.Buffer
	tw := tar.NewWriter(&seed)
	_ = tw.WriteHeader(&tar.Header{Name: "linux/a", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
	_, _ = tw.Write([]byte("x"))
	_ = tw.WriteHeader(&tar.Header{Name: "linux/l", Typeflag: tar.TypeSymlink, Linkname: "a"})
	_ = tw.Close()
	f.Add(seed.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "in")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		_ = untar(context.Background(), bytes.NewReader(data), dir)
		entries, _ := os.ReadDir(parent)
		if len(entries) != 1 {
			t.Fatalf("untar wrote outside its directory: %v", entries)
		}
	})
}

func TestUnpackTarballGoAndExternalXZAgree(t *testing.T) {
	xzPath, err := exec.LookPath("xz")
	if err != nil {
		needtest.Missing(t, "needs xz (xz-utils)")
	}
	file := filepath.Join(t.TempDir(), "linux-6.1.10.tar.xz")
	require.NoError(t, os.WriteFile(file, xzCompress(t, xzPath, fixtureTar(t, "linux-6.1.10")), 0o644))
	goDir, extDir := t.TempDir(), t.TempDir()
	require.NoError(t, unpackTarball(context.Background(), file, goDir, ""))
	require.NoError(t, unpackTarball(context.Background(), file, extDir, xzPath))
	assert.Equal(t, readTree(t, goDir), readTree(t, extDir))
	assert.Contains(t, readTree(t, goDir), "linux-6.1.10/init/main.c")

	err = unpackTarball(context.Background(), file, t.TempDir(), "false")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "false -dc failed")

	hostile := filepath.Join(t.TempDir(), "evil.tar.xz")
	data := xzCompress(t, xzPath, makeTar(t, tarEntry{name: "../evil", typ: tar.TypeReg, body: "x"}))
	require.NoError(t, os.WriteFile(hostile, data, 0o644))
	require.ErrorIs(t, unpackTarball(context.Background(), hostile, t.TempDir(), xzPath), ErrUnsafeArchive)
}

// fixtureTar packs the fixture kernel tree (testdata/photon-repo/tree) as
// prefix/, plus a relative symlink, as a kernel.org tarball holds them.
func fixtureTar(t *testing.T, prefix string) []byte {
	t.Helper()
	entries := []tarEntry{{name: prefix + "/", typ: tar.TypeDir}}
	base := "../../testdata/photon-repo/tree"
	require.NoError(t, filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == base {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		name := prefix + "/" + filepath.ToSlash(rel)
		if d.IsDir() {
			entries = append(entries, tarEntry{name: name + "/", typ: tar.TypeDir})
			return nil
		}
		data, err := os.ReadFile(p)
		entries = append(entries, tarEntry{name: name, typ: tar.TypeReg, body: string(data)})
		return err
	}))
	entries = append(entries, tarEntry{name: prefix + "/tools/", typ: tar.TypeDir},
		tarEntry{name: prefix + "/tools/Makefile", typ: tar.TypeSymlink, link: "../Makefile"})
	return makeTar(t, entries...)
}

func xzCompress(t *testing.T, xzPath string, data []byte) []byte {
	t.Helper()
	cmd := exec.Command(xzPath, "-c")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	require.NoError(t, err)
	return out
}

// readTree maps each file under root to its content, each symlink to
// "-> target".
func readTree(t *testing.T, root string) map[string]string {
	t.Helper()
	got := map[string]string{}
	require.NoError(t, filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.Type()&fs.ModeSymlink != 0 {
			link, err := os.Readlink(p)
			got[filepath.ToSlash(rel)] = "-> " + link
			return err
		}
		data, err := os.ReadFile(p)
		got[filepath.ToSlash(rel)] = string(data)
		return err
	}))
	return got
}
