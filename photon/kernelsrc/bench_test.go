// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/klpkit/klpkit/photon"
)

// BenchmarkPrepare prepares one synthetic kernel from local RPMs: SRPM
// extraction, spec interpretation, tarball unpacking, patching, config and
// vmlinux extraction.
func BenchmarkPrepare(b *testing.B) {
	if _, err := os.Stat("/usr/bin/patch"); err != nil {
		b.Skip("needs GNU patch")
	}
	k := photon.MustParseKernel("5.10.118-3.ph4")
	root := buildRepo(b, []string{k.String()}, repoOptions{})
	repo := &Repo{Dir: root}
	srpm, err := repo.Fetch(context.Background(), k, SourcePackage)
	if err != nil {
		b.Fatal(err)
	}
	debug, err := repo.Fetch(context.Background(), k, DebuginfoPackage)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		work := filepath.Join(b.TempDir(), "w")
		if _, err := Prepare(context.Background(), k, srpm, debug, &PrepareOptions{Dir: work, SkipCompilerCheck: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDownload measures download + sha256 + cache commit over loopback
// for a 64 MiB file.
func BenchmarkDownload(b *testing.B) {
	root := b.TempDir()
	data := make([]byte, 64<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := os.WriteFile(filepath.Join(root, "big.rpm"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	sum, err := fileSHA256(filepath.Join(root, "big.rpm"))
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(newFaultServer(root))
	defer srv.Close()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := &Cache{Dir: b.TempDir()}
		_, err := c.Download(context.Background(), DownloadRequest{File: "big.rpm", URLs: []string{srv.URL + "/big.rpm"}, SHA256: sum, Size: int64(len(data))}, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
}
