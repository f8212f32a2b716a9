// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"errors"
	"fmt"
	"io"
	"strconv"
)

// A small, strict reader for the SVR4 "newc" cpio format rpm uses for
// payloads. Strict because the payload is untrusted: a missing trailer or a
// short entry is an error, not a quiet end of archive.

const (
	cpioHeaderLen = 110
	cpioTrailer   = "TRAILER!!!"
	cpioMaxName   = 4096
)

// cpio mode type bits.
const (
	cpioTypeMask = 0o170000
	cpioDir      = 0o040000
	cpioReg      = 0o100000
	cpioSymlink  = 0o120000
)

type cpioHeader struct {
	Name     string
	Inode    uint32
	Mode     uint32
	Links    uint32
	MTime    uint32
	Size     int64
	DevMajor uint32
	DevMinor uint32
	hasCRC   bool
	checksum uint32
}

type cpioReader struct {
	src       *countingReader
	remaining int64 // unread bytes of the current entry
	pad       int64 // padding after the current entry
}

func newCPIOReader(r io.Reader) *cpioReader { return &cpioReader{src: &countingReader{r: r}} }

// countingReader counts bytes read, for error messages and limits.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Next skips the rest of the current entry and returns the next header, or
// io.EOF after the trailer.
func (c *cpioReader) Next() (*cpioHeader, error) {
	if skip := c.remaining + c.pad; skip > 0 {
		if _, err := io.CopyN(io.Discard, c.src, skip); err != nil {
			return nil, c.readError("entry data", err)
		}
	}
	c.remaining, c.pad = 0, 0
	var b [cpioHeaderLen]byte
	if _, err := io.ReadFull(c.src, b[:]); err != nil {
		if err == io.EOF {
			return nil, c.malformed("archive ends without a %s entry", cpioTrailer)
		}
		return nil, c.readError("header", err)
	}
	magic := string(b[:6])
	if magic != "070701" && magic != "070702" {
		if magic == "07070X" {
			return nil, fmt.Errorf("%w: rpm large-file cpio format (07070X)", ErrUnsupported)
		}
		return nil, c.malformed("bad cpio magic %q", magic)
	}
	var f [13]uint32
	for i := range f {
		v, err := strconv.ParseUint(string(b[6+8*i:14+8*i]), 16, 32)
		if err != nil {
			return nil, c.malformed("bad hex field %q", b[6+8*i:14+8*i])
		}
		f[i] = uint32(v)
	}
	h := &cpioHeader{
		Inode: f[0], Mode: f[1], Links: f[4], MTime: f[5], Size: int64(f[6]),
		DevMajor: f[7], DevMinor: f[8], hasCRC: magic == "070702", checksum: f[12],
	}
	nameSize := int(f[11])
	if nameSize < 2 || nameSize > cpioMaxName {
		return nil, c.malformed("name size %d", nameSize)
	}
	name := make([]byte, nameSize+(4-(cpioHeaderLen+nameSize)%4)%4)
	if _, err := io.ReadFull(c.src, name); err != nil {
		return nil, c.malformed("truncated name: %v", noEOF(err))
	}
	if name[nameSize-1] != 0 {
		return nil, c.malformed("name is not NUL-terminated")
	}
	h.Name = string(name[:nameSize-1])
	for i := 0; i < nameSize-1; i++ {
		if name[i] == 0 {
			return nil, c.malformed("name %q has a NUL byte", h.Name[:i])
		}
	}
	if h.Name == cpioTrailer {
		return nil, io.EOF
	}
	c.remaining, c.pad = h.Size, (4-h.Size%4)%4
	return h, nil
}

// Read reads the current entry's data; a short archive is an error.
func (c *cpioReader) Read(p []byte) (int, error) {
	if c.remaining == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.remaining {
		p = p[:c.remaining]
	}
	n, err := c.src.Read(p)
	c.remaining -= int64(n)
	if err == io.EOF && c.remaining > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// readError reports a failed read of what. An error the decompressor
// already classified (a refused xz dictionary is ErrTooLarge) keeps its
// kind; anything else, a truncated archive or a corrupt stream, is
// malformed.
func (c *cpioReader) readError(what string, err error) error {
	if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrUnsupported) || errors.Is(err, ErrMalformed) {
		return fmt.Errorf("cpio payload at byte %d: reading %s: %w", c.src.n, what, err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return c.malformed("truncated %s: %v", what, err)
	}
	return c.malformed("reading %s: %w", what, err)
}

func (c *cpioReader) malformed(format string, args ...any) error {
	return fmt.Errorf("%w: cpio payload at byte %d: %w", ErrMalformed, c.src.n, fmt.Errorf(format, args...))
}
