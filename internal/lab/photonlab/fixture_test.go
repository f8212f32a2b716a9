// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/needtest"
)

// assetsDir is the repository's real assets.
const assetsDir = "../../../testdata/photonlab"

// fakeEntry is one file of a fake Debian kernel source tarball.
type fakeEntry struct {
	Name, Body, Link string
	Type             byte
	Mode             int64
}

// fakeDebianTree is a tiny kernel-like tree under linux-source-6.1/ with
// files the fixture patches touch, a symlink and a hard link.
func fakeDebianTree() []fakeEntry {
	return []fakeEntry{
		{Name: "linux-source-6.1/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "linux-source-6.1/Makefile", Body: "# SPDX-License-Identifier: GPL-2.0\nVERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\nNAME = Fake\n", Mode: 0o644},
		{Name: "linux-source-6.1/certs/", Type: tar.TypeDir, Mode: 0o755}, // where %prep copies the lab certificate
		{Name: "linux-source-6.1/fs/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "linux-source-6.1/fs/hello.c", Body: "int hello(void)\n{\n\treturn 1;\n}\n", Mode: 0o644},
		{Name: "linux-source-6.1/scripts/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "linux-source-6.1/scripts/tool.sh", Body: "#!/bin/sh\necho tool\n", Mode: 0o755},
		{Name: "linux-source-6.1/scripts/alias.sh", Type: tar.TypeLink, Link: "linux-source-6.1/scripts/tool.sh", Mode: 0o755},
		{Name: "linux-source-6.1/tools/", Type: tar.TypeDir, Mode: 0o755},
		{Name: "linux-source-6.1/tools/Makefile", Type: tar.TypeSymlink, Link: "../Makefile", Mode: 0o777},
	}
}

// fakePatches are patches in Photon's number ranges for fakeDebianTree.
var fakePatches = map[string]string{
	"0001-hello-return-two.patch": "Subject: hello returns 2\n---\ndiff --git a/fs/hello.c b/fs/hello.c\n--- a/fs/hello.c\n+++ b/fs/hello.c\n@@ -1,4 +1,4 @@\n int hello(void)\n {\n-\treturn 1;\n+\treturn 2;\n }\n",
	"0002-add-readme.patch":       "diff --git a/README b/README\nnew file mode 100644\n--- /dev/null\n+++ b/README\n@@ -0,0 +1 @@\n+fake kernel\n",
	"0100-hello-comment.patch":    "--- a/fs/hello.c\n+++ b/fs/hello.c\n@@ -1,3 +1,4 @@\n+/* CVE fix */\n int hello(void)\n {\n \treturn 2;\n",
}

// writeTarXZ writes entries as a tar.xz file (with a pax global header,
// as kernel.org tarballs have).
func writeTarXZ(t *testing.T, file string, entries []fakeEntry) {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	mtime := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "fake"}}))
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.Name, Typeflag: typ, Mode: e.Mode, Linkname: e.Link, ModTime: mtime, Size: int64(len(e.Body))}
		if typ != tar.TypeReg {
			h.Size = 0
		}
		require.NoError(t, tw.WriteHeader(h))
		if typ == tar.TypeReg {
			_, err := tw.Write([]byte(e.Body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	cmd := exec.Command("xz", "-c")
	cmd.Stdin = &raw
	out, err := cmd.Output()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, out, 0o644))
}

// readTarXZ lists a tar.xz file: name -> header, and regular files' bodies.
func readTarXZ(t *testing.T, file string) (map[string]*tar.Header, map[string]string) {
	t.Helper()
	out, err := exec.Command("xz", "-dc", file).Output()
	require.NoError(t, err)
	tr := tar.NewReader(bytes.NewReader(out))
	hdrs, bodies := map[string]*tar.Header{}, map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		hdrs[h.Name] = h
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			require.NoError(t, err)
			bodies[h.Name] = string(b)
		}
	}
	return hdrs, bodies
}

// fakeAssets writes an assets directory: the real spec template and
// fragment, and fakePatches.
func fakeAssets(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{specTemplateName, fragmentName, fragmentName + "-aws"} {
		data, err := os.ReadFile(filepath.Join(assetsDir, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, patchesDirName), 0o755))
	for name, body := range fakePatches {
		require.NoError(t, os.WriteFile(filepath.Join(dir, patchesDirName, name), []byte(body), 0o644))
	}
	return dir
}

func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			needtest.Missing(t, "needs %s", tool)
		}
	}
}

// treeDigest lists a directory tree: relative path -> "kind:content"
// (file modes and SHA-256s, link targets; directories as "dir"), skipping names in skip.
func treeDigest(t *testing.T, root string, skip map[string]bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		if skip[rel] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			require.NoError(t, err)
			out[rel] = "link:" + target
		case d.IsDir():
			out[rel] = "dir"
		default:
			sum, _, err := fileDigest(p)
			require.NoError(t, err)
			fi, _ := d.Info()
			out[rel] = fi.Mode().Perm().String() + ":" + sum
		}
		return nil
	}))
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
