// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/klpkit/klpkit/internal/decompress"
)

// ErrBadDeb: a .deb is not an ar archive of the Debian binary format.
var ErrBadDeb = errors.New("toolchain: malformed .deb")

// maxDebData bounds one package's unpacked data (gcc-10's is 50 MB; a
// root's total is bounded by extractLimits).
const maxDebData = 4 << 30

// debData finds a .deb's data.tar member in r and returns it decompressed.
// The ar members before it (debian-binary, control.tar) are skipped; the
// control archive, with the maintainer scripts, is never read.
func debData(r io.Reader, maxData int64) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic := make([]byte, 8)
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != "!<arch>\n" {
		return nil, fmt.Errorf("%w: no ar magic", ErrBadDeb)
	}
	for i := 0; ; i++ {
		name, size, err := arHeader(br)
		if err == io.EOF {
			return nil, fmt.Errorf("%w: no data.tar member", ErrBadDeb)
		}
		if err != nil {
			return nil, err
		}
		if i == 0 {
			if name != "debian-binary" || size > 64 {
				return nil, fmt.Errorf("%w: first member is %q, not debian-binary", ErrBadDeb, name)
			}
			v := make([]byte, size)
			if _, err := io.ReadFull(br, v); err != nil {
				return nil, fmt.Errorf("%w: debian-binary: %w", ErrBadDeb, err)
			}
			if !bytes.HasPrefix(v, []byte("2.")) {
				return nil, fmt.Errorf("%w: format %q, not 2.x", ErrBadDeb, strings.TrimSpace(string(v)))
			}
			if err := skipPad(br, size); err != nil {
				return nil, err
			}
			continue
		}
		if rest, ok := strings.CutPrefix(name, "data.tar"); ok {
			format, ok := map[string]decompress.Format{"": decompress.None, ".gz": decompress.Gzip, ".xz": decompress.XZ, ".zst": decompress.Zstd, ".bz2": decompress.Bzip2}[rest]
			if !ok {
				return nil, fmt.Errorf("%w: data member %q has a compression this reader does not know", ErrBadDeb, name)
			}
			return decompress.NewReader(format, io.LimitReader(br, size), &decompress.Limits{MaxSize: maxData})
		}
		if _, err := io.CopyN(io.Discard, br, size); err != nil {
			return nil, fmt.Errorf("%w: member %s: %w", ErrBadDeb, name, err)
		}
		if err := skipPad(br, size); err != nil {
			return nil, err
		}
	}
}

// arHeader reads one 60-byte ar member header.
func arHeader(r io.Reader) (string, int64, error) {
	h := make([]byte, 60)
	n, err := io.ReadFull(r, h)
	if err == io.EOF || (err == io.ErrUnexpectedEOF && n == 0) {
		return "", 0, io.EOF
	}
	if err != nil {
		return "", 0, fmt.Errorf("%w: truncated member header", ErrBadDeb)
	}
	if string(h[58:60]) != "`\n" {
		return "", 0, fmt.Errorf("%w: bad member header", ErrBadDeb)
	}
	name := strings.TrimSuffix(strings.TrimRight(string(h[0:16]), " "), "/")
	size, err := strconv.ParseInt(strings.TrimRight(string(h[48:58]), " "), 10, 64)
	if err != nil || size < 0 {
		return "", 0, fmt.Errorf("%w: member %q has a bad size", ErrBadDeb, name)
	}
	return name, size, nil
}

func skipPad(r io.Reader, size int64) error {
	if size%2 == 1 {
		if _, err := io.ReadFull(r, make([]byte, 1)); err != nil {
			return fmt.Errorf("%w: truncated padding", ErrBadDeb)
		}
	}
	return nil
}

// extractDeb unpacks the data of the .deb read from r into x's root.
func extractDeb(ctx context.Context, r io.Reader, x *extractor) error {
	maxData := int64(maxDebData)
	if x.limit > 0 {
		maxData = x.limit
	}
	data, err := debData(r, maxData)
	if err != nil {
		return err
	}
	defer data.Close()
	return x.untar(ctx, data)
}
