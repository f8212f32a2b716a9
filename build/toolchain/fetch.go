// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
)

// maxInRelease bounds an InRelease file (bullseye's is 75 KB).
const maxInRelease = 16 << 20

// fetcher downloads with a caller's client.
type fetcher struct {
	client *http.Client
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
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return resp.Body, nil
}

// get reads url whole, refusing more than limit bytes.
func (f fetcher) get(ctx context.Context, url string, limit int64) ([]byte, error) {
	body, err := f.open(ctx, url)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("GET %s: more than %d bytes", url, limit)
	}
	return data, nil
}

// getVerified downloads url into file (through a temporary file in the
// same directory, renamed when its size and SHA-256 match).
func (f fetcher) getVerified(ctx context.Context, url, file, sum string, size int64) error {
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
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(body, size+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if err := checkDigest(url, h.Sum(nil), n, sum, size); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

func checkDigest(what string, got []byte, n int64, sum string, size int64) error {
	if n != size {
		return fmt.Errorf("%w: %s has %d bytes, the signed metadata says %d", ErrChecksumMismatch, what, n, size)
	}
	if g := hex.EncodeToString(got); g != sum {
		return fmt.Errorf("%w: %s has SHA-256 %s, the signed metadata says %s", ErrChecksumMismatch, what, g, sum)
	}
	return nil
}
