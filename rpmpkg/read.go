// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
)

// Read reads the lead and headers of the package in r, verifies the header
// digest, and leaves r at the start of the payload.
func Read(r io.Reader) (*Info, error) {
	info, _, err := readVerified(r)
	return info, err
}

func readVerified(r io.Reader) (*Info, *rawHeaders, error) {
	h, err := readHeaders(r)
	if err != nil {
		return nil, nil, err
	}
	info, err := newInfo(h)
	if err != nil {
		return nil, nil, err
	}
	if err := verifyHeaderDigest(h, info); err != nil {
		return nil, nil, err
	}
	info.Digests.Payload = h.tags.str(tagPayloadDigest)
	if info.Digests.Payload != "" {
		info.Digests.PayloadAlgo = "md5" // rpm's default, never used for payloads in practice
		if algo, ok := h.tags.int(tagPayloadDigestAlgo); ok {
			info.Digests.PayloadAlgo = hashName(int(algo))
		}
	}
	return info, h, nil
}

func verifyHeaderDigest(h *rawHeaders, info *Info) error {
	sig := h.sigTags
	if want := sig.str(sigTagSHA256); want != "" {
		info.Digests.HeaderSHA256 = want
		sum := sha256.Sum256(h.header)
		if !strings.EqualFold(want, hex.EncodeToString(sum[:])) {
			return fmt.Errorf("%w: header SHA256 is %x, signature header says %s", ErrDigestMismatch, sum, want)
		}
		info.Digests.HeaderVerified = true
		return nil
	}
	if want := sig.str(sigTagSHA1); want != "" {
		sum := sha1.Sum(h.header)
		if !strings.EqualFold(want, hex.EncodeToString(sum[:])) {
			return fmt.Errorf("%w: header SHA1 is %x, signature header says %s", ErrDigestMismatch, sum, want)
		}
		info.Digests.HeaderVerified = true
	}
	return nil
}

func hashName(algo int) string {
	switch algo {
	case hashSHA1:
		return "sha1"
	case hashSHA256:
		return "sha256"
	case hashSHA384:
		return "sha384"
	case hashSHA512:
		return "sha512"
	case hashSHA224:
		return "sha224"
	case 1:
		return "md5"
	}
	return fmt.Sprintf("algorithm-%d", algo)
}

func newHash(name string) (hash.Hash, error) {
	switch name {
	case "sha1":
		return sha1.New(), nil
	case "sha256":
		return sha256.New(), nil
	case "sha224":
		return sha256.New224(), nil
	case "sha384":
		return sha512.New384(), nil
	case "sha512":
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("%w: digest algorithm %s", ErrUnsupported, name)
}

// payloadVerifier hashes the compressed payload as it is read.
type payloadVerifier struct {
	r    io.Reader
	h    hash.Hash
	want string
	n    int64
}

func newPayloadVerifier(r io.Reader, info *Info) (*payloadVerifier, error) {
	v := &payloadVerifier{r: r, want: info.Digests.Payload}
	if v.want != "" {
		h, err := newHash(info.Digests.PayloadAlgo)
		if err != nil {
			return nil, err
		}
		v.h = h
	}
	return v, nil
}

func (v *payloadVerifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	if v.h != nil {
		v.h.Write(p[:n])
	}
	v.n += int64(n)
	return n, err
}

// finish drains the rest of the payload (bounded by limit) and checks the
// digest; it reports whether there was a digest to check.
func (v *payloadVerifier) finish(ctx context.Context, limit int64) (bool, error) {
	if _, err := copyCtx(ctx, io.Discard, v, limit-v.n); err != nil {
		return false, err
	}
	if v.h == nil {
		return false, nil
	}
	if got := hex.EncodeToString(v.h.Sum(nil)); !strings.EqualFold(got, v.want) {
		return false, fmt.Errorf("%w: payload digest is %s, header says %s", ErrDigestMismatch, got, v.want)
	}
	return true, nil
}

// InspectOptions bound Inspect; nil = defaults.
type InspectOptions struct {
	// MaxPayloadSize bounds the compressed payload read (default 8 GiB).
	MaxPayloadSize int64
}

// Inspect reads the whole package: headers (as Read) and the payload,
// verifying the payload digest. It does not decompress the payload.
func Inspect(ctx context.Context, r io.Reader, opts *InspectOptions) (*Info, error) {
	limit := int64(8 << 30)
	if opts != nil && opts.MaxPayloadSize > 0 {
		limit = opts.MaxPayloadSize
	}
	info, _, err := readVerified(r)
	if err != nil {
		return nil, err
	}
	v, err := newPayloadVerifier(r, info)
	if err != nil {
		return nil, err
	}
	ok, err := v.finish(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", info.Name, err)
	}
	info.Digests.PayloadVerified = ok
	return info, nil
}

// copyCtx copies until EOF, failing with ErrTooLarge past limit bytes and
// with ctx's error when it is done.
func copyCtx(ctx context.Context, w io.Writer, r io.Reader, limit int64) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := r.Read(buf)
		if m > 0 {
			if n += int64(m); n > limit {
				return n, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
			}
			if _, werr := w.Write(buf[:m]); werr != nil {
				return n, werr
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
