// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"context"
	"fmt"
	"io"
	"os"
)

// verifyPayloadFirst checks the payload digest before anything is written.
// A seekable input is hashed and rewound; a stream is spooled to a
// temporary file in spoolDir (the extraction's work directory inside dest)
// while it is hashed, and the spool is what gets extracted. The returned reader is at the start of the payload; cleanup
// removes the spool. Without a payload digest there is nothing to check
// and r is returned as it is (the per-file digests still are checked).
// size is the compressed payload's size from the signature header (-1 when
// unknown): a payload that ends early is ErrMalformed as well.
func verifyPayloadFirst(ctx context.Context, r io.Reader, spoolDir string, info *Info, size, limit int64) (io.Reader, func(), error) {
	nop := func() {}
	if info.Digests.Payload == "" {
		return r, nop, nil
	}
	if rs, ok := r.(io.ReadSeeker); ok {
		start, err := rs.Seek(0, io.SeekCurrent)
		if err == nil {
			if err := hashPayload(ctx, rs, io.Discard, info, size, limit); err != nil {
				return nil, nop, err
			}
			if _, err := rs.Seek(start, io.SeekStart); err != nil {
				return nil, nop, fmt.Errorf("package %s: rewinding after the payload digest check: %w", info.Name, err)
			}
			return rs, nop, nil
		}
	}
	spool, err := os.CreateTemp(spoolDir, "spool-*")
	if err != nil {
		return nil, nop, fmt.Errorf("package %s: %w", info.Name, err)
	}
	cleanup := func() {
		_ = spool.Close()
		_ = os.Remove(spool.Name())
	}
	if err := hashPayload(ctx, r, spool, info, size, limit); err != nil {
		cleanup()
		return nil, nop, err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, nop, fmt.Errorf("package %s: %w", info.Name, err)
	}
	return spool, cleanup, nil
}

// hashPayload reads the payload to its end, copying it to w, and checks
// its digest against the header's.
func hashPayload(ctx context.Context, r io.Reader, w io.Writer, info *Info, size, limit int64) error {
	v, err := newPayloadVerifier(r, info)
	if err != nil {
		return fmt.Errorf("package %s: %w", info.Name, err)
	}
	n, err := copyCtx(ctx, w, v, limit)
	if err != nil {
		return fmt.Errorf("package %s: payload: %w", info.Name, err)
	}
	if _, err := v.finish(ctx, limit); err != nil {
		if size >= 0 && n < size {
			return fmt.Errorf("package %s: %w: payload ends after %d of %d bytes (%w)", info.Name, ErrMalformed, n, size, err)
		}
		return fmt.Errorf("package %s: %w", info.Name, err)
	}
	return nil
}

// payloadSize is the compressed payload's size: the signature header's
// header-plus-payload size less the header; -1 when it does not say.
func payloadSize(h *rawHeaders) int64 {
	total, ok := h.sigTags.int(sigTagSize)
	if !ok || total < int64(len(h.header)) {
		return -1
	}
	return total - int64(len(h.header))
}
