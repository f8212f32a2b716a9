// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klpkit/klpkit/internal/decompress"
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

// MaxModuleSize caps a module image: the bytes read from a module file and
// the bytes a compressed one may decompress to, for gzip, xz and zstd
// alike. Livepatch modules are kilobytes to a few megabytes, so the cap
// only stops hostile or broken files (a compression bomb, a device node)
// from taking the memory of the host. Beyond it the file is refused with
// ErrModuleTooLarge.
const MaxModuleSize = 256 << 20

// ErrModuleTooLarge: a module file, or what it decompresses to, is larger
// than MaxModuleSize. The errors that carry it also match ErrBadModule.
var ErrModuleTooLarge = errors.New("module too large")

// maxXZDict bounds the LZMA2 dictionary an xz module may ask for (and the
// zstd window). ulikunitz/xz allocates the dictionary before it reads a
// byte of data, with no cap, so xzguard refuses more. Kernel modules are
// compressed with a 1 MiB dictionary.
const maxXZDict = 64 << 20

// elfMagic starts every ELF file.
var elfMagic = []byte("\x7fELF")

func (c Compression) format() decompress.Format {
	switch c {
	case CompressGzip:
		return decompress.Gzip
	case CompressXZ:
		return decompress.XZ
	case CompressZstd:
		return decompress.Zstd
	}
	return decompress.None
}

// detectCompression looks at the content, not the file name: a renamed file
// still loads.
func detectCompression(data []byte) Compression {
	switch decompress.Detect(data) {
	case decompress.XZ:
		return CompressXZ
	case decompress.Zstd:
		return CompressZstd
	case decompress.Gzip:
		return CompressGzip
	}
	return CompressNone
}

// decompressModule returns the module image inside data, decompressing at
// most limit bytes. The ELF magic is checked on the first decompressed
// bytes, so a stream that is not a module fails before the rest is
// decompressed.
func decompressModule(c Compression, data []byte, limit int64) ([]byte, error) {
	if c == CompressNone {
		if int64(len(data)) > limit {
			return nil, fmt.Errorf("module of %d bytes, more than %d: %w", len(data), limit, ErrModuleTooLarge)
		}
		return data, nil
	}
	r, err := decompress.NewReader(c.format(), bytes.NewReader(data), &decompress.Limits{MaxSize: limit, MaxDict: maxXZDict})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	head := make([]byte, len(elfMagic))
	if n, err := io.ReadFull(r, head); err != nil {
		return nil, fmt.Errorf("%s: decompressed data ends after %d bytes, before an ELF header: %w", c, n, err)
	}
	if !bytes.Equal(head, elfMagic) {
		return nil, fmt.Errorf("%s: not an ELF file: bad magic number %q in the first decompressed bytes", c, head)
	}
	// Most modules compress by 3 to 5 times: start there, within the cap.
	buf := bytes.NewBuffer(make([]byte, 0, min(limit, int64(len(data))*4+64)))
	buf.Write(head)
	if _, err := buf.ReadFrom(r); err != nil {
		if errors.Is(err, decompress.ErrTooLarge) {
			return nil, fmt.Errorf("%s: decompresses to more than %d bytes: %w", c, limit, ErrModuleTooLarge)
		}
		return nil, fmt.Errorf("%s: %w", c, err)
	}
	return buf.Bytes(), nil
}

// Decompress returns the ELF image of a module file's contents, whatever its
// compression (none, gzip, xz, zstd), and the compression it found. A
// compressed image must start with the ELF magic and decompress to at most
// MaxModuleSize bytes.
func Decompress(data []byte) ([]byte, Compression, error) {
	c := detectCompression(data)
	out, err := decompressModule(c, data, MaxModuleSize)
	return out, c, err
}

// readModuleFile reads a module file of at most limit bytes; a longer one
// (or an endless device) is refused after limit+1 bytes.
func readModuleFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: file of more than %d bytes: %w", path, limit, ErrModuleTooLarge)
	}
	return data, nil
}
