// SPDX-License-Identifier: Apache-2.0

package xzguard

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// NewLZMAReader returns a reader of the data decoded from the legacy .lzma
// ("LZMA alone") stream r. Its 13-byte header (properties, dictionary size,
// uncompressed size) is checked before the decoder sees it; the rest is raw
// LZMA data with no structure to walk.
func NewLZMAReader(r io.Reader, opts *Options) (io.Reader, error) {
	src := &errRecorder{r: r}
	var h [lzma.HeaderLen]byte
	if _, err := io.ReadFull(src, h[:]); err != nil {
		if src.err == nil {
			return nil, lzmaError(ErrFormat, "input ends inside the 13-byte header")
		}
		return nil, err
	}
	if h[0] >= 9*5*5 {
		return nil, lzmaError(ErrFormat, "bad properties byte %#02x", h[0])
	}
	maxDict := opts.maxDict()
	if dict := int64(binary.LittleEndian.Uint32(h[1:5])); dict > maxDict {
		return nil, lzmaError(ErrLimit, "dictionary of %s exceeds the %s limit", sizeString(dict), sizeString(maxDict))
	}
	// ulikunitz/xz/lzma takes DictCap as a limit too: a second line of defence.
	cfg := lzma.ReaderConfig{DictCap: int(min(max(maxDict, lzma.MinDictCap), lzma.MaxDictCap))}
	// bufio gives the decoder the io.ByteReader it reads through byte by byte.
	dec, err := cfg.NewReader(bufio.NewReaderSize(io.MultiReader(bytes.NewReader(h[:]), src), 64<<10))
	explain := func(err error) error {
		if src.err != nil && errors.Is(err, src.err) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if err != nil {
		return nil, explain(err)
	}
	return &decoded{dec: dec, explain: explain}, nil
}

func lzmaError(kind error, format string, args ...any) error {
	return &Error{Format: "lzma", Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// errRecorder remembers the input's own I/O error, which is not a format
// problem and passes through unchanged.
type errRecorder struct {
	r   io.Reader
	err error
}

func (e *errRecorder) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}
