// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

type member struct {
	name, body string
	typ        byte
}

func tarOf(t *testing.T, members ...member) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range members {
		typ := m.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		hdr := &tar.Header{Name: m.name, Typeflag: typ, Mode: 0o644, Size: int64(len(m.body))}
		if typ == tar.TypeSymlink {
			hdr.Linkname, hdr.Size = m.body, 0
		}
		require.NoError(t, tw.WriteHeader(hdr))
		if typ == tar.TypeReg {
			_, err := tw.Write([]byte(m.body))
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return &buf
}

func TestExtractTar(t *testing.T) {
	dir := t.TempDir()
	src := tarOf(t,
		member{name: "./", typ: tar.TypeDir},
		member{name: "./boot/System.map-6.1.0-56-amd64", body: "stub"},
		member{name: "./boot/vmlinuz-6.1.0-56-amd64", body: "kernel"},
		member{name: "./usr/share/doc/x", body: "doc"},
	)
	want := map[string]string{
		"boot/vmlinuz-6.1.0-56-amd64": filepath.Join(dir, "out", "vmlinuz"),
		"boot/config-6.1.0-56-amd64":  filepath.Join(dir, "config"),
	}
	missing, err := extractTar(src, want)
	require.NoError(t, err)
	require.Equal(t, []string{"boot/config-6.1.0-56-amd64"}, missing)
	b, err := os.ReadFile(filepath.Join(dir, "out", "vmlinuz"))
	require.NoError(t, err)
	require.Equal(t, "kernel", string(b))
	entries, _ := os.ReadDir(dir)
	require.Len(t, entries, 1, "only the wanted file may be written")
}

func TestExtractTarRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	src := tarOf(t, member{name: "./boot/vmlinuz-x", body: "/etc/shadow", typ: tar.TypeSymlink})
	_, err := extractTar(src, map[string]string{"boot/vmlinuz-x": filepath.Join(dir, "vmlinuz")})
	require.ErrorContains(t, err, "not a regular file")
	require.NoFileExists(t, filepath.Join(dir, "vmlinuz"))
}

func TestExtractTarCleansNames(t *testing.T) {
	dir := t.TempDir()
	src := tarOf(t, member{name: "../../boot/../boot/vmlinuz-x", body: "k"})
	missing, err := extractTar(src, map[string]string{"boot/vmlinuz-x": filepath.Join(dir, "vmlinuz")})
	require.NoError(t, err)
	require.Empty(t, missing)
}

func TestExtractTarCorrupt(t *testing.T) {
	src := tarOf(t, member{name: "a", body: "abc"})
	_, err := extractTar(bytes.NewReader(src.Bytes()[:514]), map[string]string{"a": filepath.Join(t.TempDir(), "a")})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}
