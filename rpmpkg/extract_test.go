// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
)

// treeOf lists every path under dir with its type, for "nothing written"
// and "exactly this written" checks.
func treeOf(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil // a dest that a failed extraction created and removed
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel != "." {
			out = append(out, rel+map[bool]string{true: "/"}[d.IsDir()])
		}
		return nil
	})
	require.NoError(t, err)
	sort.Strings(out)
	return out
}

func TestExtractLivepatchPackage(t *testing.T) {
	for _, comp := range []string{"gzip", "xz", "lzma", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			p := testPackage()
			p.Compressor = comp
			dest := t.TempDir()
			var events []ExtractEvent
			res, err := Extract(context.Background(), bytes.NewReader(buildBytes(t, p)), dest,
				&ExtractOptions{Progress: klpkit.On(func(e ExtractEvent) { events = append(events, e) })})
			require.NoError(t, err)
			assert.True(t, res.Info.Digests.PayloadVerified)
			assert.Equal(t, comp, res.Info.PayloadCompressor)
			assert.Equal(t, []string{"var/", "var/opt/", "var/opt/kpatch/", "var/opt/kpatch/modules/",
				"var/opt/kpatch/modules/livepatch-cve-2024-1234.ko"}, treeOf(t, dest))
			ko := filepath.Join(dest, "var/opt/kpatch/modules/livepatch-cve-2024-1234.ko")
			got, err := os.ReadFile(ko)
			require.NoError(t, err)
			assert.Equal(t, p.Module, got)
			fi, err := os.Stat(ko)
			require.NoError(t, err)
			assert.Equal(t, fs.FileMode(0o644), fi.Mode())
			assert.Equal(t, testEpoch.Unix(), fi.ModTime().Unix())
			assert.Len(t, res.Files, 3)
			assert.Len(t, events, 3)
			assert.Equal(t, int64(len(p.Module)), res.Written)
		})
	}
}

func TestExtractFilterOneFile(t *testing.T) {
	raw := packageWithPayload(t, cpioBytes([]testEntry{
		dir("./usr"), reg("./usr/a", "aaa"), reg("./usr/lib/debug/vmlinux", "ELF"), reg("./usr/b", "bbb"),
	}, true))
	dest := t.TempDir()
	res, err := Extract(context.Background(), bytes.NewReader(raw), dest, &ExtractOptions{
		Filter: func(n string) bool { return n == "usr/lib/debug/vmlinux" },
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"usr/", "usr/lib/", "usr/lib/debug/", "usr/lib/debug/vmlinux"}, treeOf(t, dest))
	require.Len(t, res.Files, 1)
	assert.Equal(t, "usr/lib/debug/vmlinux", res.Files[0].Name)
	assert.Equal(t, filepath.Join(dest, "usr/lib/debug/vmlinux"), res.Files[0].Path)
}

func TestExtractLinks(t *testing.T) {
	// rpm stores a hard-link set's data with its last member.
	raw := packageWithPayload(t, cpioBytes([]testEntry{
		{name: "./bin/a", mode: cpioReg | 0o755, links: 2, inode: 77, size: 0},
		{name: "./bin/b", mode: cpioReg | 0o755, links: 2, inode: 77, data: "shared", size: -1},
		symlink("./bin/c", "a"),
		symlink("./lib/rel", "../bin/b"),
		{name: "./empty1", mode: cpioReg | 0o600, links: 2, inode: 99, size: 0},
		{name: "./empty2", mode: cpioReg | 0o600, links: 2, inode: 99, size: 0},
	}, true))
	dest := t.TempDir()
	_, err := Extract(context.Background(), bytes.NewReader(raw), dest, nil)
	require.NoError(t, err)
	a, _ := os.Stat(filepath.Join(dest, "bin/a"))
	b, _ := os.Stat(filepath.Join(dest, "bin/b"))
	require.NotNil(t, a)
	assert.True(t, os.SameFile(a, b), "bin/a and bin/b are one inode")
	data, err := os.ReadFile(filepath.Join(dest, "bin/c"))
	require.NoError(t, err)
	assert.Equal(t, "shared", string(data))
	target, err := os.Readlink(filepath.Join(dest, "lib/rel"))
	require.NoError(t, err)
	assert.Equal(t, "../bin/b", target)
	e1, _ := os.Stat(filepath.Join(dest, "empty1"))
	e2, _ := os.Stat(filepath.Join(dest, "empty2"))
	require.NotNil(t, e1)
	assert.True(t, os.SameFile(e1, e2))
	assert.Zero(t, e1.Size())
}

func TestExtractHardLinkDataFromUnselectedMember(t *testing.T) {
	raw := packageWithPayload(t, cpioBytes([]testEntry{
		{name: "./want", mode: cpioReg | 0o644, links: 2, inode: 5, size: 0},
		{name: "./other", mode: cpioReg | 0o644, links: 2, inode: 5, data: "payload", size: -1},
	}, true))
	dest := t.TempDir()
	_, err := Extract(context.Background(), bytes.NewReader(raw), dest, &ExtractOptions{Filter: func(n string) bool { return n == "want" }})
	require.NoError(t, err)
	assert.Equal(t, []string{"want"}, treeOf(t, dest))
	got, _ := os.ReadFile(filepath.Join(dest, "want"))
	assert.Equal(t, "payload", string(got))
}

func TestExtractHostile(t *testing.T) {
	big := make([]byte, 2048)
	tests := []struct {
		name    string
		entries []testEntry
		trailer bool
		opts    *ExtractOptions
		want    error
		entry   string // the entry the error must name
	}{
		{"dotdot", []testEntry{reg("./a", "x"), reg("./../escape", "x")}, true, nil, ErrUnsafePath, "./../escape"},
		{"dotdot inside", []testEntry{reg("usr/../../escape", "x")}, true, nil, ErrUnsafePath, "usr/../../escape"},
		{"absolute symlink", []testEntry{symlink("./etc", "/etc")}, true, nil, ErrUnsafePath, "./etc"},
		{"climbing symlink", []testEntry{symlink("./a/up", "../../..")}, true, nil, ErrUnsafePath, "./a/up"},
		{"file through symlink", []testEntry{dir("./real"), symlink("./link", "real"), reg("./link/passwd", "x")}, true, nil, ErrUnsafePath, "./link/passwd"},
		{"dir through symlink", []testEntry{dir("./real"), symlink("./link", "real"), dir("./link/sub")}, true, nil, ErrUnsafePath, "./link/sub"},
		{"file through file", []testEntry{reg("./f", "x"), reg("./f/g", "y")}, true, nil, ErrUnsafePath, "./f/g"},
		{"oversized entry", []testEntry{reg("./big", string(big))}, true, &ExtractOptions{MaxFileSize: 1024}, ErrTooLarge, "./big"},
		{"oversized total", []testEntry{reg("./a", string(big)), reg("./b", string(big))}, true, &ExtractOptions{MaxTotalSize: 3000}, ErrTooLarge, "./b"},
		{"claims more data than present", []testEntry{reg("./ok", "fine"), {name: "./short", mode: cpioReg | 0o644, data: "abc", size: 4096}}, false, nil, ErrMalformed, "./short"},
		{"no trailer", []testEntry{reg("./a", "x")}, false, nil, ErrMalformed, ""},
		{"symlink target too long", []testEntry{{name: "./l", mode: cpioSymlink | 0o777, data: "x", size: 5000}}, true, nil, ErrMalformed, "./l"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dest := filepath.Join(parent, "dest")
			raw := packageWithPayload(t, cpioBytes(tt.entries, tt.trailer))
			_, err := Extract(context.Background(), bytes.NewReader(raw), dest, tt.opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			if tt.entry != "" {
				var ee *EntryError
				require.True(t, errors.As(err, &ee), "error names no entry: %v", err)
				assert.Equal(t, tt.entry, ee.Entry)
			}
			assert.Empty(t, treeOf(t, parent), "the dest the extraction created is gone")
			assert.Empty(t, treeOf(t, dest))
		})
	}
}

func TestExtractTruncatedPackage(t *testing.T) {
	raw := buildBytes(t, testPackage())
	for _, n := range []int{10, 96, 200, len(raw) / 2, len(raw) - 20} {
		dest := t.TempDir()
		_, err := Extract(context.Background(), bytes.NewReader(raw[:n]), dest, nil)
		require.Error(t, err, "cut at %d", n)
		assert.Empty(t, treeOf(t, dest), "cut at %d", n)
	}
}

func TestExtractCorruptPayloadDigest(t *testing.T) {
	raw := buildBytes(t, testPackage())
	corrupt := append([]byte(nil), raw...)
	corrupt[len(corrupt)-10] ^= 0xff // inside the gzip stream's last bytes
	dest := t.TempDir()
	_, err := Extract(context.Background(), bytes.NewReader(corrupt), dest, nil)
	require.Error(t, err)
	assert.Empty(t, treeOf(t, dest))
}

func TestExtractCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dest := t.TempDir()
	_, err := Extract(ctx, bytes.NewReader(buildBytes(t, testPackage())), dest, nil)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, treeOf(t, dest))
}

func TestExtractPreexistingSymlinkInDest(t *testing.T) {
	parent := t.TempDir()
	dest := filepath.Join(parent, "dest")
	outside := filepath.Join(parent, "outside")
	require.NoError(t, os.MkdirAll(dest, 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	require.NoError(t, os.Symlink(outside, filepath.Join(dest, "var")))
	_, err := Extract(context.Background(), bytes.NewReader(buildBytes(t, testPackage())), dest, nil)
	assert.ErrorIs(t, err, ErrUnsafePath)
	assert.Empty(t, treeOf(t, outside))
}

func TestExtractOverExistingTree(t *testing.T) {
	dest := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dest, "var/opt/kpatch/modules"), 0o755))
	ko := filepath.Join(dest, "var/opt/kpatch/modules/livepatch-cve-2024-1234.ko")
	require.NoError(t, os.WriteFile(ko, []byte("old"), 0o600))
	_, err := Extract(context.Background(), bytes.NewReader(buildBytes(t, testPackage())), dest, nil)
	require.NoError(t, err)
	got, _ := os.ReadFile(ko)
	assert.Equal(t, testPackage().Module, got, "an existing file is replaced, as rpm does")

	// A directory where the package has a file is refused, naming the entry.
	dest = t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dest, "var/opt/kpatch/modules/livepatch-cve-2024-1234.ko"), 0o755))
	_, err = Extract(context.Background(), bytes.NewReader(buildBytes(t, testPackage())), dest, nil)
	var ee *EntryError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, "/var/opt/kpatch/modules/livepatch-cve-2024-1234.ko", ee.Entry)
	assert.DirExists(t, filepath.Join(dest, "var/opt/kpatch/modules/livepatch-cve-2024-1234.ko"), "pre-existing content is left alone")
}

func TestExtractSkipEscapingSymlinks(t *testing.T) {
	raw := packageWithPayload(t, cpioBytes([]testEntry{
		symlink("./usr/lib/debug/.build-id/ab/cd", "/lib/modules/6.1/vmlinux"),
		symlink("./up", "../../x"),
		reg("./usr/lib/debug/vmlinux", "ELF"),
	}, true))
	dest := t.TempDir()
	res, err := Extract(context.Background(), bytes.NewReader(raw), dest, &ExtractOptions{SkipEscapingSymlinks: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"usr/lib/debug/.build-id/ab/cd", "up"}, res.Skipped)
	assert.Equal(t, []string{"usr/", "usr/lib/", "usr/lib/debug/", "usr/lib/debug/vmlinux"}, treeOf(t, dest))
}

// cancelAfter cancels a context once n bytes have been read through it.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

// Seek lets Extract read the package twice (digest first, then entries).
func (c *cancelAfter) Seek(off int64, whence int) (int64, error) {
	return c.r.(io.Seeker).Seek(off, whence)
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	m, err := c.r.Read(p)
	if c.n -= m; c.n <= 0 {
		c.cancel()
	}
	return m, err
}

// A cancellation in the middle of a file is the caller's doing, not a
// malformed package: callers that branch on ErrMalformed (to re-download or
// reject the package) must not see it.
func TestExtractCanceledMidFileIsNotMalformed(t *testing.T) {
	p := testPackage()
	// Incompressible: the copy takes many reads.
	p.Module = paddedModule(4<<20, func(pad []byte) { _, _ = rand.Read(pad) })
	data := buildBytes(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dest := t.TempDir()
	// Cancel half-way through the second read, which writes the entries.
	_, err := Extract(ctx, &cancelAfter{r: bytes.NewReader(data), n: len(data) + len(data)/2, cancel: cancel}, dest, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrMalformed)
	assert.Contains(t, err.Error(), "livepatch-cve-2024-1234.ko", "names the entry")
	assert.Empty(t, treeOf(t, dest))
}

func TestEntryTypeString(t *testing.T) {
	assert.Equal(t, "file", TypeFile.String())
	assert.Equal(t, "hardlink", TypeHardlink.String())
	assert.Equal(t, "EntryType(7)", EntryType(7).String(), "no panic outside the enum")
	assert.Equal(t, "EntryType(-1)", EntryType(-1).String())
}
