package rpmpkg

import (
	"compress/bzip2"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
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
	case "xz":
		zr, err := xz.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: xz payload: %w", ErrMalformed, err)
		}
		return zr, nop, nil
	case "lzma":
		zr, err := lzma.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: lzma payload: %w", ErrMalformed, err)
		}
		return zr, nop, nil
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
