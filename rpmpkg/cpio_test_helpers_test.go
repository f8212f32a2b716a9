// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/rpmpack"
	"github.com/stretchr/testify/require"
)

// testEntry is a raw cpio entry for hand-made (often hostile) payloads.
type testEntry struct {
	name  string
	mode  uint32
	data  string
	links uint32
	inode uint32
	size  int64 // -1 = len(data); otherwise the header claims this size
}

func reg(name, data string) testEntry {
	return testEntry{name: name, mode: cpioReg | 0o644, data: data, size: -1}
}
func dir(name string) testEntry { return testEntry{name: name, mode: cpioDir | 0o755, size: -1} }
func symlink(name, target string) testEntry {
	return testEntry{name: name, mode: cpioSymlink | 0o777, data: target, size: -1}
}

// cpioBytes encodes entries in newc format; trailer adds TRAILER!!!.
func cpioBytes(entries []testEntry, trailer bool) []byte {
	var b bytes.Buffer
	write := func(e testEntry) {
		size := e.size
		if size < 0 {
			size = int64(len(e.data))
		}
		links := e.links
		if links == 0 {
			links = 1
		}
		fmt.Fprintf(&b, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
			e.inode, e.mode, 0, 0, links, 1700000000, size, 0, 0, 0, 0, len(e.name)+1, 0)
		b.WriteString(e.name)
		b.WriteByte(0)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
		b.WriteString(e.data)
		for b.Len()%4 != 0 {
			b.WriteByte(0)
		}
	}
	for i, e := range entries {
		if e.inode == 0 {
			e.inode = uint32(i + 1)
		}
		write(e)
	}
	if trailer {
		write(testEntry{name: cpioTrailer, size: -1})
	}
	return b.Bytes()
}

// packageWithPayload wraps a raw cpio stream in a valid RPM (gzip payload,
// correct digests), so tests exercise the extractor, not the digests.
func packageWithPayload(t testing.TB, cpio []byte) []byte {
	t.Helper()
	return packageWithRawPayload(t, gzipBytes(t, cpio), "gzip", uint32(len(cpio)))
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(b)
	require.NoError(t, zw.Close())
	return gz.Bytes()
}

func packageWithRawPayload(t testing.TB, payload []byte, compressor string, size uint32) []byte {
	t.Helper()
	tmpl := payloadTemplate(compressor)
	require.NoError(t, tmpl.err)
	// Swap the placeholder digest for the real one: same length, so the
	// header layout is unchanged and only the signature header is redone.
	sum := sha256.Sum256(payload)
	header := bytes.Replace(tmpl.header, []byte(placeholderDigest), []byte(hex.EncodeToString(sum[:])), 1)
	sig, err := signatureHeader(header, payload, size, nil)
	require.NoError(t, err)
	var out bytes.Buffer
	out.Write(tmpl.lead)
	out.Write(sig)
	out.Write(make([]byte, (8-len(sig)%8)%8))
	out.Write(header)
	out.Write(payload)
	return out.Bytes()
}

var placeholderDigest = strings.Repeat("5a", 32)

type template struct {
	lead, header []byte
	err          error
}

// payloadTemplate builds (once per compressor) a package whose payload
// digest is a placeholder; fuzzing calls packageWithRawPayload a lot.
var payloadTemplate = func() func(string) template {
	var mu sync.Mutex
	cache := map[string]template{}
	return func(compressor string) template {
		mu.Lock()
		defer mu.Unlock()
		if tmpl, ok := cache[compressor]; ok {
			return tmpl
		}
		tmpl := template{}
		r, err := rpmpack.NewRPM(rpmpack.RPMMetaData{Name: "hostile", Version: "1", Release: "1", Compressor: compressor})
		if err == nil {
			r.AddCustomTag(tagPayloadDigest, rpmpack.EntryStringSlice([]string{placeholderDigest}))
			var buf bytes.Buffer
			if err = r.Write(&buf); err == nil {
				var p *rawPackage
				if p, err = splitPackage(buf.Bytes()); err == nil {
					tmpl.lead, tmpl.header = p.lead, p.header
				}
			}
		}
		tmpl.err = err
		cache[compressor] = tmpl
		return tmpl
	}
}()
