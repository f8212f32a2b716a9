// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
)

// snapshot records every path under dir with its mode and content (or link
// target), to compare a destination before and after a failed extraction.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		desc := fi.Mode().String()
		if fi.IsDir() {
			desc += " " + fi.ModTime().String() // restored too
		}
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			desc += " -> " + target
		case fi.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			desc += " " + string(data)
		}
		out[rel] = desc
		return nil
	})
	require.NoError(t, err)
	return out
}

// hardlinkEntry is a member of a hard-link set (inode shared, data on one).
func hardlinkEntry(name, data string, inode, links uint32) testEntry {
	return testEntry{name: name, mode: cpioReg | 0o644, data: data, size: -1, inode: inode, links: links}
}

// Symlink chains are judged by how the kernel resolves them, not by their
// text: "c/d -> .." names dest, so "c/d/../secret" is dest/../secret even
// though it reads as c/secret.
func TestExtractSymlinkChainsStayInside(t *testing.T) {
	tests := []struct {
		name    string
		entries []testEntry
	}{
		{"dotdot after a symlink", []testEntry{dir("./c"), symlink("./c/d", ".."), symlink("./vmlinux", "c/d/../secret")}},
		{"dotdot after a symlink, nested", []testEntry{dir("./a"), dir("./a/b"), symlink("./a/b/up", "../.."), symlink("./a/v", "b/up/../secret")}},
		{"file replaced by a symlink later", []testEntry{dir("./c"), reg("./c/d", "x"), symlink("./vmlinux", "c/d/../secret"), symlink("./c/d", "..")}},
		{"dotdot after a name not yet created", []testEntry{dir("./c"), symlink("./vmlinux", "c/d/../secret"), symlink("./c/d", "..")}},
		{"hard link to a symlink moved to another directory", []testEntry{
			dir("./a"), dir("./a/b"),
			hardlinkEntry("./a/b/l", "data", 9, 2),
			symlink("./a/b/l", "../../secret"), hardlinkEntry("./m2", "", 9, 2),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(parent, "secret"), []byte("host secret"), 0o600))
			dest := filepath.Join(parent, "dest")
			raw := packageWithPayload(t, cpioBytes(tt.entries, true))
			_, err := Extract(context.Background(), bytes.NewReader(raw), dest, nil)
			require.ErrorIs(t, err, ErrUnsafePath)
			assert.NotContains(t, err.Error(), "host secret")
			assert.Empty(t, treeOf(t, dest), "a failed extraction leaves nothing behind")
		})
	}
}

// Symlinks that climb over real directories, as debuginfo's .build-id
// links do, are still extracted.
func TestExtractBuildIDLinks(t *testing.T) {
	raw := packageWithPayload(t, cpioBytes([]testEntry{
		dir("./usr"), dir("./usr/lib"), dir("./usr/lib/debug"), dir("./usr/lib/debug/.build-id"), dir("./usr/lib/debug/.build-id/ab"),
		reg("./usr/lib/debug/vmlinux", "ELF"),
		symlink("./usr/lib/debug/.build-id/ab/cdef.debug", "../../vmlinux"),
		symlink("./usr/lib/debug/v2", ".build-id/ab/cdef.debug"),
	}, true))
	dest := t.TempDir()
	_, err := Extract(context.Background(), bytes.NewReader(raw), dest, nil)
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dest, "usr/lib/debug/v2"))
	require.NoError(t, err)
	assert.Equal(t, "ELF", string(got))
}

// withPayloadDigest returns a package whose header claims digest for a
// payload that does not have it (the header digest is consistent).
func withPayloadDigest(t *testing.T, cpio []byte, digest string) []byte {
	t.Helper()
	payload := gzipBytes(t, cpio)
	tmpl := payloadTemplate("gzip")
	require.NoError(t, tmpl.err)
	header := bytes.Replace(tmpl.header, []byte(placeholderDigest), []byte(digest), 1)
	sig, err := signatureHeader(header, payload, uint32(len(cpio)), nil)
	require.NoError(t, err)
	var out bytes.Buffer
	out.Write(tmpl.lead)
	out.Write(sig)
	out.Write(make([]byte, (8-len(sig)%8)%8))
	out.Write(header)
	out.Write(payload)
	return out.Bytes()
}

// onlyReader hides Seek, as a network stream would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// A failed extraction leaves dest exactly as it was: files it replaced are
// back, directory modes are unchanged, nothing new remains; and a payload
// whose digest does not match writes nothing at all.
func TestExtractFailureLeavesDestAsItWas(t *testing.T) {
	wrong := hex.EncodeToString(make([]byte, sha256.Size))
	good := cpioBytes([]testEntry{dir("./etc"), reg("./etc/x.conf", "package"), reg("./etc/new", "new")}, true)
	sum := sha256.Sum256(gzipBytes(t, good))
	// Consistent digest, but the payload breaks after replacing x.conf.
	broken := cpioBytes([]testEntry{dir("./etc"), reg("./etc/x.conf", "package"), symlink("./etc/new", "/etc/passwd")}, true)
	tests := []struct {
		name      string
		raw       []byte
		noWriting bool // the failure is known before anything is written
	}{
		{"payload digest mismatch", withPayloadDigest(t, good, wrong), true},
		{"entry refused after others were written", withPayloadDigest(t, broken, hex.EncodeToString(func() []byte { s := sha256.Sum256(gzipBytes(t, broken)); return s[:] }())), false},
		{"payload digest of another payload", withPayloadDigest(t, good[:len(good)-200], hex.EncodeToString(sum[:])), true},
		{"truncated payload, consistent digest", withPayloadDigest(t, good[:len(good)-200], hex.EncodeToString(func() []byte { s := sha256.Sum256(gzipBytes(t, good[:len(good)-200])); return s[:] }())), false},
	}
	for _, tt := range tests {
		for _, seekable := range []bool{true, false} {
			t.Run(tt.name+map[bool]string{true: " seekable", false: " stream"}[seekable], func(t *testing.T) {
				dest := filepath.Join(t.TempDir(), "dest")
				require.NoError(t, os.MkdirAll(filepath.Join(dest, "etc"), 0o700))
				require.NoError(t, os.WriteFile(filepath.Join(dest, "etc/x.conf"), []byte("mine"), 0o600))
				require.NoError(t, os.WriteFile(filepath.Join(dest, "keep"), []byte("keep"), 0o644))
				before := snapshot(t, dest)
				var r io.Reader = bytes.NewReader(tt.raw)
				if !seekable {
					r = onlyReader{r}
				}
				var events []string
				_, err := Extract(context.Background(), r, dest, &ExtractOptions{Progress: klpkit.On(func(e ExtractEvent) { events = append(events, e.Name) })})
				require.Error(t, err)
				if tt.noWriting {
					assert.Empty(t, events, "nothing is written before the payload digest is checked")
				}
				assert.Equal(t, before, snapshot(t, dest))
				entries, err := os.ReadDir(filepath.Dir(dest))
				require.NoError(t, err)
				assert.Len(t, entries, 1, "no staging files are left beside dest")
			})
		}
	}
}

// A payload cut short is malformed, as it was when decoding found it; the
// digest check that now finds it first says so too.
func TestExtractTruncatedPayloadIsMalformed(t *testing.T) {
	raw := buildBytes(t, testPackage())
	for _, r := range []io.Reader{bytes.NewReader(raw[:len(raw)-20]), onlyReader{bytes.NewReader(raw[:len(raw)-20])}} {
		_, err := Extract(context.Background(), r, t.TempDir(), nil)
		require.ErrorIs(t, err, ErrMalformed)
		assert.ErrorIs(t, err, ErrDigestMismatch)
		assert.Contains(t, err.Error(), "payload ends after")
	}
}

// A successful extraction over existing files replaces them and leaves no
// backups or spool files behind.
func TestExtractOverExistingLeavesNoBackups(t *testing.T) {
	good := cpioBytes([]testEntry{dir("./etc"), reg("./etc/x.conf", "package"), symlink("./etc/l", "x.conf")}, true)
	sum := sha256.Sum256(gzipBytes(t, good))
	raw := withPayloadDigest(t, good, hex.EncodeToString(sum[:]))
	for _, r := range []io.Reader{bytes.NewReader(raw), onlyReader{bytes.NewReader(raw)}} {
		parent := t.TempDir()
		dest := filepath.Join(parent, "dest")
		require.NoError(t, os.MkdirAll(filepath.Join(dest, "etc"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dest, "etc/x.conf"), []byte("mine"), 0o600))
		require.NoError(t, os.Symlink("elsewhere", filepath.Join(dest, "etc/l")))
		_, err := Extract(context.Background(), r, dest, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"dest/", "dest/etc/", "dest/etc/l", "dest/etc/x.conf"}, treeOf(t, parent))
		got, err := os.ReadFile(filepath.Join(dest, "etc/l"))
		require.NoError(t, err)
		assert.Equal(t, "package", string(got))
	}
}
