// SPDX-License-Identifier: Apache-2.0

// Package decompress opens gzip, xz and zstd streams from untrusted input
// with bounds: on the bytes that come out (Limits.MaxSize) and on the
// memory the decoder may reserve up front (Limits.MaxDict, the xz
// dictionary and the zstd window). A reader past its limit fails with
// ErrTooLarge instead of handing on more, so a small bomb cannot make its
// caller hold gigabytes.
package decompress

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

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
)

func (f Format) String() string {
	switch f {
	case Gzip:
		return "gzip"
	case XZ:
		return "xz"
	case Zstd:
		return "zstd"
	}
	return "none"
}

var (
	magicGzip = []byte{0x1f, 0x8b}
	magicXZ   = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
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
	case XZ:
		xr, err := xzguard.NewXZReader(r, &xzguard.Options{MaxDict: l.maxDict()})
		if err != nil {
			return nil, fmt.Errorf("xz: %w", err)
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
	default:
		return nil, fmt.Errorf("unknown compression format %d", int(f))
	}
	return &capped{r: dec, f: f, left: l.maxSize(), limit: l.maxSize(), close: closer}, nil
}

// capped hands on at most limit bytes of r and fails when r has more.
type capped struct {
	r     io.Reader
	f     Format
	left  int64
	limit int64
	close func()
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a stream of exactly limit bytes from a
		// longer one.
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%s: more than %d bytes: %w", c.f, c.limit, ErrTooLarge)
		}
		return 0, c.wrap(err)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
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
