// SPDX-License-Identifier: Apache-2.0

// Package decompress opens gzip, xz (and lzma), zstd and bzip2 streams from untrusted input
// with bounds: on the bytes that come out (Limits.MaxSize) and on the
// memory the decoder may reserve up front (Limits.MaxDict, the xz
// dictionary and the zstd window). A reader past its limit fails with
// ErrTooLarge instead of handing on more, so a small bomb cannot make its
// caller hold gigabytes.
//
// kmod (module files), photon (repository metadata, downloads) and rpmpkg
// (payloads) read through it; each passes the limits of its own input.
package decompress

import (
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/klpkit/klpkit/internal/xzguard"
)

// Format is a compression format.
type Format int

// Formats, detected by their magic bytes.
const (
	None Format = iota
	Gzip
	XZ
	Zstd
	Bzip2
	// LZMA is the legacy .lzma format: it has no magic, so Detect never
	// names it; rpm payloads declare it by name.
	LZMA
)

func (f Format) String() string {
	switch f {
	case Gzip:
		return "gzip"
	case XZ:
		return "xz"
	case Zstd:
		return "zstd"
	case Bzip2:
		return "bzip2"
	case LZMA:
		return "lzma"
	}
	return "none"
}

var (
	magicGzip = []byte{0x1f, 0x8b}
	magicXZ   = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
	// "BZh" and a block size digit.
	magicBzip2 = []byte("BZh")
)

// Detect names the format of data by its first bytes (None when no known
// magic starts it).
func Detect(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, magicXZ):
		return XZ
	case bytes.HasPrefix(head, magicZstd):
		return Zstd
	case bytes.HasPrefix(head, magicGzip):
		return Gzip
	case len(head) > len(magicBzip2) && bytes.HasPrefix(head, magicBzip2) && head[3] >= '1' && head[3] <= '9':
		return Bzip2
	}
	return None
}

// Defaults of Limits.
const (
	// DefaultMaxSize caps the decompressed bytes when Limits.MaxSize is 0.
	DefaultMaxSize = 1 << 30
	// DefaultMaxDict caps the xz dictionary and the zstd window when
	// Limits.MaxDict is 0: xz's presets go up to 64 MiB (-9).
	DefaultMaxDict = xzguard.DefaultMaxDict
)

// Limits bound a decompression. nil or zero fields mean the defaults.
type Limits struct {
	// MaxSize is the most bytes the reader hands on.
	MaxSize int64
	// MaxDict is the largest xz dictionary or zstd window a stream may
	// ask for.
	MaxDict int64
	// TooLarge, when set, makes the error a reader past MaxSize fails
	// with: callers that report limits in their own terms (photon's
	// SizeError, rpmpkg's ErrTooLarge) set it. Unset, the error wraps
	// ErrTooLarge.
	TooLarge func() error
}

func (l *Limits) maxSize() int64 {
	if l == nil || l.MaxSize <= 0 {
		return DefaultMaxSize
	}
	return l.MaxSize
}

func (l *Limits) maxDict() int64 {
	if l == nil || l.MaxDict <= 0 {
		return DefaultMaxDict
	}
	return l.MaxDict
}

// ErrTooLarge: the stream decompresses to more than Limits.MaxSize bytes.
var ErrTooLarge = errors.New("decompressed data larger than allowed")

// NewReader returns a reader of r decompressed as f (None passes r
// through, still capped). Reading more than the limit allows fails with an
// error wrapping ErrTooLarge; the bytes before it are valid output. Close
// releases the decoder.
func NewReader(f Format, r io.Reader, l *Limits) (io.ReadCloser, error) {
	var dec io.Reader
	closer := func() {}
	switch f {
	case None:
		dec = r
	case Gzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		dec = zr
	case XZ, LZMA:
		open := xzguard.NewXZReader
		if f == LZMA {
			open = xzguard.NewLZMAReader
		}
		xr, err := open(r, &xzguard.Options{MaxDict: l.maxDict()})
		if err != nil {
			return nil, err // xzguard's errors name the format and the byte
		}
		dec = xr
	case Zstd:
		// The window is bounded like the xz dictionary; MaxMemory bounds
		// what the decoder buffers for a frame.
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(uint64(l.maxDict())), zstd.WithDecoderMaxMemory(uint64(max(l.maxSize(), l.maxDict()))))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		dec, closer = zr, zr.Close
	case Bzip2:
		// bzip2 blocks are at most 900 kB: no memory bound to set.
		dec = bzip2.NewReader(r)
	default:
		return nil, fmt.Errorf("unknown compression format %d", int(f))
	}
	limit := l.maxSize()
	tooLarge := func() error { return fmt.Errorf("%s: more than %d bytes: %w", f, limit, ErrTooLarge) }
	if l != nil && l.TooLarge != nil {
		tooLarge = l.TooLarge
	}
	return &capped{capReader: capReader{r: dec, left: limit, tooLarge: tooLarge}, f: f, close: closer}, nil
}

// Cap returns a reader of at most limit bytes of r (0 and less: none) that
// fails with tooLarge() on the byte after them, so that a stream longer than
// allowed is an error rather than silently cut. A stream of exactly limit
// bytes reads to its end. photon caps its HTTP bodies with it.
func Cap(r io.Reader, limit int64, tooLarge func() error) io.Reader {
	return &capReader{r: r, left: limit, tooLarge: tooLarge}
}

// capReader is Cap's reader.
type capReader struct {
	r        io.Reader
	left     int64
	tooLarge func() error
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a stream of exactly limit bytes from a
		// longer one.
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, c.tooLarge()
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// capped is a capped decompressor: it names its format in a truncated
// stream's error and releases the decoder on Close.
type capped struct {
	capReader
	f     Format
	close func()
}

func (c *capped) Read(p []byte) (int, error) {
	n, err := c.capReader.Read(p)
	return n, c.wrap(err)
}

func (c *capped) wrap(err error) error {
	if err == nil || err == io.EOF || c.f == None {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: truncated: %w", c.f, err)
	}
	return err
}

// Close releases the decoder; it does not close the underlying reader.
func (c *capped) Close() error {
	c.close()
	return nil
}

// ReadAll decompresses data of format f whole, within l.
func ReadAll(f Format, data []byte, l *Limits) ([]byte, error) {
	r, err := NewReader(f, bytes.NewReader(data), l)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}
