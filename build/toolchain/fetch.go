// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// maxInRelease bounds an InRelease file (bullseye's is 75 KB).
const maxInRelease = 16 << 20

// fetcher downloads with a caller's client.
type fetcher struct {
	client *http.Client
	// backoff is the wait before the second attempt (doubled before the
	// third); 0 means a second.
	backoff time.Duration
}

// attempts is how often a download that failed on the way (a network
// error, a 5xx answer) is tried.
const attempts = 3

// transientError marks a failure worth another attempt.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// HTTPStatusError is a download's answer other than 200 OK.
type HTTPStatusError struct {
	URL    string
	Status int
}

func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("GET %s: %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// retry runs do until it succeeds, fails for good, or attempts run out.
func (f fetcher) retry(ctx context.Context, do func() error) error {
	wait := f.backoff
	if wait <= 0 {
		wait = time.Second
	}
	var err error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w (after: %w)", ctx.Err(), err)
			case <-time.After(wait):
			}
			wait *= 2
		}
		err = do()
		var t *transientError
		if err == nil || !errors.As(err, &t) || ctx.Err() != nil {
			break
		}
	}
	var t *transientError
	if errors.As(err, &t) {
		return t.err
	}
	return err
}

func (f fetcher) open(ctx context.Context, url string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	client := f.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &transientError{fmt.Errorf("GET %s: %w", url, err)}
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err := &HTTPStatusError{URL: url, Status: resp.StatusCode}
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout {
			return nil, &transientError{err}
		}
		return nil, err
	}
	return resp.Body, nil
}

// get reads url whole, refusing more than limit bytes.
func (f fetcher) get(ctx context.Context, url string, limit int64) ([]byte, error) {
	var data []byte
	err := f.retry(ctx, func() error {
		var err error
		data, err = f.getOnce(ctx, url, limit)
		return err
	})
	return data, err
}

func (f fetcher) getOnce(ctx context.Context, url string, limit int64) ([]byte, error) {
	body, err := f.open(ctx, url)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, &transientError{fmt.Errorf("GET %s: %w", url, err)}
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("GET %s: more than %d bytes", url, limit)
	}
	return data, nil
}

// getVerified downloads url into file (through a temporary file in the
// same directory, renamed when its size and digest match). sum is an
// Entry's digest field: a bare SHA-256, or "sha512:" and a SHA-512.
func (f fetcher) getVerified(ctx context.Context, url, file, sum string, size int64) error {
	return f.retry(ctx, func() error { return f.getVerifiedOnce(ctx, url, file, sum, size) })
}

func (f fetcher) getVerifiedOnce(ctx context.Context, url, file, sum string, size int64) error {
	body, err := f.open(ctx, url)
	if err != nil {
		return err
	}
	defer body.Close()
	tmp, err := os.CreateTemp(filepath.Dir(file), ".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, is512 := splitDigest(sum); is512 {
		h = sha512.New()
	}
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(body, size+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &transientError{fmt.Errorf("GET %s: %w", url, err)}
	}
	if err := checkDigest(url, h.Sum(nil), n, sum, size); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// splitDigest reads a digest field: the hex digest, and whether it is a
// SHA-512 (else a SHA-256).
func splitDigest(field string) (sum string, is512 bool) {
	if s, ok := strings.CutPrefix(field, sha512Prefix); ok {
		return s, true
	}
	return field, false
}

// checkDigest compares a download's size and digest (got, of the kind the
// digest field sum names) with the metadata's.
func checkDigest(what string, got []byte, n int64, sum string, size int64) error {
	if n != size {
		return fmt.Errorf("%w: %s has %d bytes, the signed metadata says %d", ErrChecksumMismatch, what, n, size)
	}
	want, is512 := splitDigest(sum)
	algo := "SHA-256"
	if is512 {
		algo = "SHA-512"
	}
	if g := hex.EncodeToString(got); want == "" || g != want {
		return fmt.Errorf("%w: %s has %s %s, the signed metadata says %s", ErrChecksumMismatch, what, algo, g, want)
	}
	return nil
}
