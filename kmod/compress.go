package kmod

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/klpkit/klpkit/internal/xzguard"
)

// Compression is how a module file is compressed.
type Compression int

// Compressions kernel modules ship with.
const (
	CompressNone Compression = iota
	CompressGzip
	CompressXZ
	CompressZstd
)

func (c Compression) String() string {
	switch c {
	case CompressGzip:
		return "gzip"
	case CompressXZ:
		return "xz"
	case CompressZstd:
		return "zstd"
	}
	return "none"
}

// maxModuleSize bounds decompression so a hostile file cannot exhaust memory.
const maxModuleSize = 1 << 30

// maxXZDict bounds the LZMA2 dictionary an xz module may ask for (and the
// zstd window). ulikunitz/xz allocates the dictionary before it reads a
// byte of data, with no cap, so xzguard refuses more. Kernel modules are
// compressed with a 1 MiB dictionary.
const maxXZDict = 64 << 20

var (
	magicGzip = []byte{0x1f, 0x8b}
	magicXZ   = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// detectCompression looks at the content, not the file name: a renamed file
// still loads.
func detectCompression(data []byte) Compression {
	switch {
	case bytes.HasPrefix(data, magicXZ):
		return CompressXZ
	case bytes.HasPrefix(data, magicZstd):
		return CompressZstd
	case bytes.HasPrefix(data, magicGzip):
		return CompressGzip
	}
	return CompressNone
}

// decompress returns the module image inside data.
func decompress(c Compression, data []byte) ([]byte, error) {
	var r io.Reader
	switch c {
	case CompressNone:
		return data, nil
	case CompressGzip:
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		r = zr
	case CompressXZ:
		xr, err := xzguard.NewXZReader(bytes.NewReader(data), &xzguard.Options{MaxDict: maxXZDict})
		if err != nil {
			return nil, fmt.Errorf("xz: %w", err)
		}
		r = xr
	case CompressZstd:
		// Bound the window, as the xz dictionary is bounded above.
		zr, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(maxXZDict), zstd.WithDecoderMaxMemory(maxModuleSize))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		defer zr.Close()
		r = zr
	}
	out, err := io.ReadAll(io.LimitReader(r, maxModuleSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c, err)
	}
	if len(out) > maxModuleSize {
		return nil, fmt.Errorf("%s: module larger than %d bytes", c, maxModuleSize)
	}
	return out, nil
}

// Decompress returns the ELF image of a module file's contents, whatever its
// compression (none, gzip, xz, zstd), and the compression it found.
func Decompress(data []byte) ([]byte, Compression, error) {
	c := detectCompression(data)
	out, err := decompress(c, data)
	return out, c, err
}
