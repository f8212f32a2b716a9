// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"compress/bzip2"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/klpkit/klpkit/internal/xzguard"
)

// decompressor opens the payload stream for the PAYLOADCOMPRESSOR name.
// The returned close function releases decoder resources (zstd decoders
// keep goroutines until closed).
func decompressor(name string, r io.Reader) (io.Reader, func(), error) {
	nop := func() {}
	switch name {
	case "gzip", "":
		// rpm's default when the tag is absent is gzip.
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: gzip payload: %w", ErrMalformed, err)
		}
		zr.Multistream(true)
		return zr, func() { _ = zr.Close() }, nil
	case "xz", "lzma":
		// The guard bounds the decoder's dictionary: payloads of local
		// RPMs are decoded before anything has verified them.
		open := xzguard.NewXZReader
		if name == "lzma" {
			open = xzguard.NewLZMAReader
		}
		zr, err := open(r, nil)
		if err != nil {
			return nil, nil, guardError(name, err)
		}
		return guardedPayload{zr, name}, nop, nil
	case "zstd":
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: zstd payload: %w", ErrMalformed, err)
		}
		return zr, zr.Close, nil
	case "bzip2":
		return bzip2.NewReader(r), nop, nil
	case "identity", "none":
		return r, nop, nil
	}
	return nil, nil, fmt.Errorf("%w: payload compressor %q", ErrUnsupported, name)
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
