// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"errors"
	"fmt"
	"io"

	"github.com/klpkit/klpkit/internal/decompress"
	"github.com/klpkit/klpkit/internal/xzguard"
)

// payloadFormats maps PAYLOADCOMPRESSOR names to their formats; rpm's
// default when the tag is absent is gzip.
var payloadFormats = map[string]decompress.Format{
	"": decompress.Gzip, "gzip": decompress.Gzip,
	"xz": decompress.XZ, "lzma": decompress.LZMA,
	"zstd": decompress.Zstd, "bzip2": decompress.Bzip2,
	"identity": decompress.None, "none": decompress.None,
}

// decompressor opens the payload stream for the PAYLOADCOMPRESSOR name,
// failing with ErrTooLarge past maxSize decompressed bytes. The xz
// dictionary and the zstd window are bounded at decompress's default (64
// MiB, xz -9's): payloads of local RPMs are decoded before anything has
// verified them. Close releases the decoder (a zstd decoder keeps
// goroutines until closed).
func decompressor(name string, r io.Reader, maxSize int64) (io.ReadCloser, error) {
	f, ok := payloadFormats[name]
	if !ok {
		return nil, fmt.Errorf("%w: payload compressor %q", ErrUnsupported, name)
	}
	rc, err := decompress.NewReader(f, r, &decompress.Limits{MaxSize: maxSize, TooLarge: func() error {
		return fmt.Errorf("%w: %s payload decompresses to more than %d bytes", ErrTooLarge, name, maxSize)
	}})
	switch {
	case err != nil && (f == decompress.XZ || f == decompress.LZMA):
		return nil, guardError(name, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %s payload: %w", ErrMalformed, name, err)
	}
	return payloadReader{guardedPayload{rc, name}, rc}, nil
}

// guardError gives an xz or lzma payload error this package's sentinel.
func guardError(name string, err error) error {
	sentinel := ErrMalformed
	switch {
	case errors.Is(err, xzguard.ErrLimit):
		sentinel = ErrTooLarge
	case errors.Is(err, xzguard.ErrUnsupported):
		sentinel = ErrUnsupported
	case !errors.Is(err, xzguard.ErrFormat):
		return err // the input's own read error
	}
	return fmt.Errorf("%w: %s payload: %w", sentinel, name, err)
}

// guardedPayload says which payload a decoding error is about.
type guardedPayload struct {
	r    io.Reader
	name string
}

func (p guardedPayload) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF {
		err = guardError(p.name, err)
	}
	return n, err
}

// payloadReader is a guarded payload that releases its decoder on Close.
type payloadReader struct {
	guardedPayload
	io.Closer
}
