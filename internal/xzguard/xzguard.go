// SPDX-License-Identifier: Apache-2.0

package xzguard

import (
	"errors"
	"fmt"
	"io"

	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// DefaultMaxDict is the dictionary cap when Options.MaxDict is zero. xz's
// presets go up to 64 MiB (-9), so every stream xz(1) writes by default
// passes.
const DefaultMaxDict = 64 << 20

// Options tunes the guard. A nil *Options means the defaults.
type Options struct {
	// MaxDict is the largest dictionary, in bytes, a stream may ask for;
	// 0 means DefaultMaxDict.
	MaxDict int64
}

func (o *Options) maxDict() int64 {
	if o == nil || o.MaxDict <= 0 {
		return DefaultMaxDict
	}
	return o.MaxDict
}

// Sentinels that every error of this package wraps one of.
var (
	// ErrFormat: the input is not a well-formed xz or lzma stream.
	ErrFormat = errors.New("malformed stream")
	// ErrLimit: the input is well formed but asks for more memory than
	// allowed.
	ErrLimit = errors.New("limit exceeded")
	// ErrUnsupported: the input uses a feature the decoder does not
	// handle (a BCJ or delta filter, a reserved check type).
	ErrUnsupported = errors.New("unsupported feature")
)

// Error says what is wrong with the input and where.
type Error struct {
	Format string // "xz" or "lzma"
	Stream int    // 1-based stream number; 0 outside a stream
	Block  int    // 1-based block number in the stream; 0 outside a block
	Offset int64  // input offset of the structure at fault
	Kind   error  // ErrFormat, ErrLimit or ErrUnsupported
	Msg    string
}

func (e *Error) Error() string {
	where := e.Format
	if e.Stream > 1 {
		where += fmt.Sprintf(" stream %d", e.Stream)
	}
	if e.Block > 0 {
		where += fmt.Sprintf(" block %d", e.Block)
	}
	return fmt.Sprintf("%s at byte %d: %s", where, e.Offset, e.Msg)
}

// Unwrap returns the sentinel, so errors.Is(err, ErrLimit) works.
func (e *Error) Unwrap() error { return e.Kind }

// NewXZReader returns a reader of the data decoded from the .xz stream r,
// which the guard checks before the decoder sees it. Besides the checks of
// NewGuard it refuses filter chains other than LZMA2 alone, the only chain
// github.com/ulikunitz/xz decodes.
func NewXZReader(r io.Reader, opts *Options) (io.Reader, error) {
	g := newGuard(r, opts.maxDict(), true)
	// DictCap is a floor in ulikunitz/xz (it allocates the larger of it
	// and the block's dictionary): the smallest lets the approved block
	// header decide.
	dec, err := xz.ReaderConfig{DictCap: lzma.MinDictCap}.NewReader(g)
	if err != nil {
		return nil, g.explain(err)
	}
	return &decoded{dec: dec, explain: g.explain}, nil
}

// NewGuard returns a reader that yields the bytes of the .xz stream r
// unchanged, after checking them, and fails with an *Error at the first
// problem. Use it to feed another decoder (xz(1), say); unlike NewXZReader
// it accepts the BCJ and delta filters before LZMA2.
func NewGuard(r io.Reader, opts *Options) io.Reader {
	return newGuard(r, opts.maxDict(), false)
}

// decoded passes on the decoder's output and turns its errors into ones
// that name the root cause: the guard's finding, the input's own I/O error,
// or else corrupt data the decoder found (ErrFormat).
type decoded struct {
	dec     io.Reader
	explain func(error) error
}

func (d *decoded) Read(p []byte) (int, error) {
	n, err := d.dec.Read(p)
	if err != nil && err != io.EOF {
		err = d.explain(err)
	}
	return n, err
}
