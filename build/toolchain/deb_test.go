// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func extractInto(t *testing.T, dir string, deb []byte) error {
	t.Helper()
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	defer root.Close()
	return extractDeb(context.Background(), bytes.NewReader(deb), &extractor{root: root})
}

func TestExtractDeb(t *testing.T) {
	for _, ext := range []string{"", ".gz", ".xz", ".zst"} {
		t.Run("data.tar"+ext, func(t *testing.T) {
			dir := t.TempDir()
			deb := makeDeb(t, ext,
				dirEntry("./"), dirEntry("./usr/"), dirEntry("./usr/bin/"), dirEntry("./lib64/"),
				file("./usr/bin/x86_64-linux-gnu-gcc-10", "elf"),
				symlink("./usr/bin/gcc-10", "x86_64-linux-gnu-gcc-10"),
				symlink("./lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-2.31.so"),
				hardlink("./usr/bin/cc-hard", "./usr/bin/x86_64-linux-gnu-gcc-10"),
				tarEntry{name: "./usr/bin/suid", typ: tar.TypeReg, body: "x", mode: 0o4755},
			)
			require.NoError(t, extractInto(t, dir, deb))
			data, err := os.ReadFile(filepath.Join(dir, "usr/bin/gcc-10"))
			require.NoError(t, err)
			assert.Equal(t, "elf", string(data))
			// An absolute target means the same path in the root.
			target, err := os.Readlink(filepath.Join(dir, "lib64/ld-linux-x86-64.so.2"))
			require.NoError(t, err)
			assert.Equal(t, "../lib/x86_64-linux-gnu/ld-2.31.so", target)
			a, err := os.Stat(filepath.Join(dir, "usr/bin/cc-hard"))
			require.NoError(t, err)
			b, err := os.Stat(filepath.Join(dir, "usr/bin/x86_64-linux-gnu-gcc-10"))
			require.NoError(t, err)
			assert.True(t, os.SameFile(a, b))
			fi, err := os.Stat(filepath.Join(dir, "usr/bin/suid"))
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o755), fi.Mode(), "no setuid in a root")
			// The control archive (maintainer scripts) is never unpacked.
			assert.NoFileExists(t, filepath.Join(dir, "postinst"))
		})
	}
}

func TestExtractLaterPackageReplaces(t *testing.T) {
	d := t.TempDir()
	require.NoError(t, extractInto(t, d, makeDeb(t, ".gz", file("./usr/bin/tool", "old"))))
	require.NoError(t, extractInto(t, d, makeDeb(t, ".gz", file("./usr/bin/tool", "new"))))
	data, err := os.ReadFile(filepath.Join(d, "usr/bin/tool"))
	require.NoError(t, err)
	assert.Equal(t, "new", string(data))
}

func TestExtractHostile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []tarEntry
		errLike string
	}{
		{"dot-dot name", []tarEntry{file("./../escape", "x")}, "climbs"},
		{"deep dot-dot name", []tarEntry{file("./usr/../../escape", "x")}, "climbs"},
		{"absolute name", []tarEntry{file("/etc/escape", "x")}, "absolute"},
		{"symlink out of the root", []tarEntry{symlink("./usr/evil", "../../../etc")}, "leaves the root"},
		{"symlink to the root's parent", []tarEntry{symlink("./evil", "..")}, "leaves the root"},
		{"symlink to /", []tarEntry{symlink("./evil", "/")}, "root itself"},
		{"write through a symlink", []tarEntry{symlink("./lib", "usr"), dirEntry("./usr/"), file("./lib/x", "x")}, "goes through symlink lib"},
		{"write through an absolute symlink", []tarEntry{symlink("./etc", "/etc"), file("./etc/passwd", "x")}, "goes through symlink etc"},
		{"hard link to a file outside", []tarEntry{hardlink("./passwd", "../../../../etc/passwd")}, "climbs"},
		{"hard link to an absolute path", []tarEntry{hardlink("./passwd", "/etc/passwd")}, "absolute"},
		{"hard link to a symlink", []tarEntry{symlink("./l", "x"), hardlink("./h", "./l")}, "not a regular file"},
		{"hard link to nothing", []tarEntry{hardlink("./h", "./missing")}, "not (yet) in the root"},
		{"device node", []tarEntry{{name: "./dev/sda", typ: tar.TypeBlock}}, "not a file, directory or link"},
		{"fifo", []tarEntry{{name: "./fifo", typ: tar.TypeFifo}}, "not a file, directory or link"},
		{"file over a directory", []tarEntry{dirEntry("./usr/"), file("./usr", "x")}, "directory is in the way"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			d := filepath.Join(parent, "root")
			require.NoError(t, os.Mkdir(d, 0o755))
			err := extractInto(t, d, makeDeb(t, ".gz", tc.entries...))
			require.ErrorIs(t, err, ErrUnsafePath)
			assert.ErrorContains(t, err, tc.errLike)
			left, _ := os.ReadDir(parent)
			assert.Len(t, left, 1, "nothing written beside the root")
		})
	}
}

func TestDebFormat(t *testing.T) {
	data := compress(t, ".gz", dataTar(t, []tarEntry{file("./a", "a")}))
	for _, tc := range []struct {
		name    string
		deb     []byte
		errLike string
	}{
		{"not ar", []byte("PK\x03\x04 a zip"), "no ar magic"},
		{"empty ar", []byte("!<arch>\n"), "no data.tar member"},
		{"no debian-binary first", arArchive(arMember{"data.tar.gz", data}), "not debian-binary"},
		{"format 3", arArchive(arMember{"debian-binary", []byte("3.0\n")}, arMember{"data.tar.gz", data}), "not 2.x"},
		{"unknown compression", arArchive(arMember{"debian-binary", []byte("2.0\n")}, arMember{"data.tar.lz4", data}), "compression"},
		{"no data member", arArchive(arMember{"debian-binary", []byte("2.0\n")}, arMember{"control.tar.gz", data}), "no data.tar member"},
		{"truncated header", append(arArchive(arMember{"debian-binary", []byte("2.0\n")}), "data.tar"...), "truncated member header"},
		{"bad size", bytes.Replace(arArchive(arMember{"debian-binary", []byte("2.0\n")}), []byte("4         `"), []byte("-4        `"), 1), "bad size"},
		{"truncated member", arArchive(arMember{"debian-binary", []byte("2.0\n")}, arMember{"control.tar.gz", data})[:80], ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := extractInto(t, t.TempDir(), tc.deb)
			require.Error(t, err)
			if tc.errLike != "" {
				assert.ErrorIs(t, err, ErrBadDeb)
				assert.ErrorContains(t, err, tc.errLike)
			}
		})
	}
}

func TestLinkTarget(t *testing.T) {
	for _, tc := range []struct{ name, target, want, errLike string }{
		{"lib64/ld.so", "/lib/x86_64-linux-gnu/ld-2.31.so", "../lib/x86_64-linux-gnu/ld-2.31.so", ""},
		{"usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", "../../../lib/x86_64-linux-gnu/libc.so.6", ""},
		{"top", "/usr/bin/x", "usr/bin/x", ""},
		{"top", "/usr/../../../etc", "etc", ""}, // cleaned as a path in the root
		{"usr/bin/as", "x86_64-linux-gnu-as", "x86_64-linux-gnu-as", ""},
		{"usr/bin/x", "../../lib/y", "../../lib/y", ""},
		{"usr/bin/x", "../../../lib/y", "", "leaves the root"},
		{"x", "", "", "empty"},
	} {
		got, err := linkTarget(tc.name, tc.target)
		if tc.errLike != "" {
			assert.ErrorContains(t, err, tc.errLike, tc.name)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, got, tc.name+" -> "+tc.target)
	}
}

func TestCheckLinks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		links   map[string]string // name -> target, made in this order's map order: independent links only
		dirs    []string
		errLike string
	}{
		{"links that stay inside", map[string]string{"usr/bin/as": "x86_64-linux-gnu-as", "lib64/ld.so": "../lib/ld-2.31.so", "usr/lib/cpp": "../bin/cpp", "top": "usr/../lib"}, []string{"usr/bin", "usr/lib", "lib64", "lib"}, ""},
		{"a link to . then through it up", map[string]string{"a": ".", "b": "a/.."}, nil, "leads out of the root"},
		{"a deep link then up past the root", map[string]string{"usr/here": "../..", "x": "usr/here/.."}, []string{"usr"}, "leads out of the root"},
		{"a chain that stays inside", map[string]string{"usr/bin/one": "two", "usr/bin/two": "../../three", "three": "usr/.."}, []string{"usr/bin"}, ""},
		{"a chain through a link to .", map[string]string{"usr/self": ".", "usr/bin/up": "../self/../.."}, []string{"usr/bin"}, "leads out of the root"},
		{"a loop", map[string]string{"l1": "l2", "l2": "l1"}, nil, "too many levels"},
		{"dangling", map[string]string{"usr/bin/gone": "../lib/missing/../../x"}, []string{"usr/bin"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			for _, dir := range tc.dirs {
				require.NoError(t, os.MkdirAll(filepath.Join(d, dir), 0o755))
			}
			for name, target := range tc.links {
				require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(d, name)), 0o755))
				require.NoError(t, os.Symlink(target, filepath.Join(d, name)))
			}
			err := checkLinks(d)
			if tc.errLike == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrUnsafePath)
			assert.ErrorContains(t, err, tc.errLike)
		})
	}
}
