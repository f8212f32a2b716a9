// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klpkit/klpkit/photon"
)

// writeLargePrimary writes repoDir/repodata/{primary.xml.gz,repomd.xml} with
// at least size bytes of uncompressed primary list: n filler packages with
// file lists, the wanted package last. It returns the uncompressed and
// compressed sizes.
func writeLargePrimary(tb testing.TB, repoDir string, size int64, want PackageEntry) (int64, int64) {
	tb.Helper()
	md := filepath.Join(repoDir, "repodata")
	if err := os.MkdirAll(md, 0o755); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(filepath.Join(md, "primary.xml.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	h := sha256.New()
	zw, _ := gzip.NewWriterLevel(io.MultiWriter(f, h), gzip.BestSpeed)
	cw := &countWriter{w: zw}
	w := bufio.NewWriterSize(cw, 1<<20)
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm">`+"\n")
	for i := 0; cw.n < size; i++ {
		fmt.Fprintf(w, `<package type="rpm"><name>filler-%d</name><arch>x86_64</arch><version epoch="0" ver="1.%d" rel="1.ph5"/>`+
			`<checksum type="sha256" pkgid="YES">%064x</checksum><summary>Filler package %d</summary>`+
			`<description>A package that only makes the list long.</description><size package="%d" installed="0" archive="0"/>`+
			`<location href="x86_64/filler-%d-1.%d-1.ph5.x86_64.rpm"/><format><rpm:license>MIT</rpm:license><rpm:sourcerpm>filler-%d.src.rpm</rpm:sourcerpm>`,
			i, i, i, i, 1000+i, i, i, i)
		for j := 0; j < 20; j++ {
			fmt.Fprintf(w, `<file>/usr/share/filler-%d/some/deeper/directory/file-number-%d.txt</file>`, i, j)
		}
		fmt.Fprint(w, "</format></package>\n")
	}
	fmt.Fprintf(w, `<package type="rpm"><name>%s</name><arch>%s</arch><version epoch="0" ver="%s" rel="%s"/>`+
		`<checksum type="sha256" pkgid="YES">%s</checksum><size package="%d"/><location href="%s"/></package>`+"\n</metadata>\n",
		want.Name, want.Arch, want.Version, want.Release, want.SHA256, want.Size, want.Href)
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	repomd := fmt.Sprintf(`<?xml version="1.0"?><repomd xmlns="http://linux.duke.edu/metadata/repo"><data type="primary">`+
		`<checksum type="sha256">%s</checksum><location href="repodata/primary.xml.gz"/><size>%d</size></data></repomd>`,
		hex.EncodeToString(h.Sum(nil)), fi.Size())
	if err := os.WriteFile(filepath.Join(md, "repomd.xml"), []byte(repomd), 0o644); err != nil {
		tb.Fatal(err)
	}
	return cw.n, fi.Size()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// heapPeak samples the heap in use until stopped and returns the largest value.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
	}
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		sample()
		return peak.Load()
	}
}

// BenchmarkLocateLargePrimary looks a package up in a repository whose
// primary list is over 100 MB uncompressed: download, checksum, decompress
// and parse. It reports the peak heap in use (sampled every 5 ms) and the
// list's size; the peak should stay a small fraction of the list.
func BenchmarkLocateLargePrimary(b *testing.B) {
	k := photon.MustParseKernel("6.1.138-2.ph5")
	root := b.TempDir()
	repoDir := filepath.Join(root, filepath.FromSlash(SourcePackage.RepoPath(k.Release())))
	want := PackageEntry{Name: "linux", Arch: "src", Version: "6.1.138", Release: "2.ph5", Href: k.SourceRPM(), SHA256: fmt.Sprintf("%064x", 42), Size: 1234}
	size, gzSize := writeLargePrimary(b, repoDir, 110<<20, want)
	srv := httptest.NewServer(http.FileServer(http.Dir(root)))
	defer srv.Close()
	repo := &Repo{BaseURLs: []string{srv.URL}, CacheDir: b.TempDir()}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	b.ResetTimer()
	var peak uint64
	for i := 0; i < b.N; i++ {
		stop := heapPeak()
		req, err := repo.Locate(context.Background(), k, SourcePackage)
		peak = max(peak, stop())
		if err != nil {
			b.Fatal(err)
		}
		if req.SHA256 != want.SHA256 {
			b.Fatalf("found sha256 %s, want %s", req.SHA256, want.SHA256)
		}
	}
	b.ReportMetric(float64(size)/1e6, "primary-MB")
	b.ReportMetric(float64(gzSize)/1e6, "primary-gz-MB")
	b.ReportMetric(float64(peak)/1e6, "peak-heap-MB")
	b.ReportMetric(float64(peak-min(peak, base.HeapInuse))/1e6, "peak-heap-growth-MB")
}
