// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/decompress"
	"github.com/klpkit/klpkit/internal/flock"
	"github.com/klpkit/klpkit/photon"
)

// ErrPackageNotFound is returned when no repository has the package.
var ErrPackageNotFound = errors.New("photon: package not found")

// NotFoundError says which package of which release was missing where.
type NotFoundError struct {
	File    string         `json:"file"`    // e.g. "linux-rt-5.10.118-3.ph4.src.rpm"
	What    string         `json:"what"`    // e.g. "source RPM"
	Release photon.Release `json:"release"` // 0 when unknown
	URLs    []string       `json:"urls"`    // every location tried
}

func (e *NotFoundError) Error() string {
	rel := ""
	if e.Release != 0 {
		rel = " of Photon " + e.Release.String()
	}
	return fmt.Sprintf("photon: %s %s%s not found (HTTP 404) at %s", e.What, e.File, rel, strings.Join(e.URLs, ", "))
}

func (e *NotFoundError) Unwrap() error { return ErrPackageNotFound }

// DownloadOptions tunes Download. The zero value (or nil) is a sensible default.
type DownloadOptions struct {
	// Client does the HTTP requests; nil means a client without a global timeout
	// (stalls are caught by StallTimeout instead).
	Client *http.Client
	// Attempts per URL for transient errors (network errors, 5xx, 429,
	// truncated or stalled bodies); 0 means 5.
	Attempts int
	// Backoff is the first wait between attempts, doubled each time up to
	// MaxBackoff; 0 means 1s (MaxBackoff 0 means 30s).
	Backoff, MaxBackoff time.Duration
	// StallTimeout aborts an attempt that receives no bytes for this long;
	// 0 means 60s.
	StallTimeout time.Duration
	// Progress, if set, receives reports as bytes arrive, in order and
	// never concurrently, on the download's goroutine: it should return
	// quickly. Their Detail is a DownloadEvent.
	Progress klpkit.ProgressFunc
	// MaxDownloadSize caps a package body when no metadata declares its
	// size; 0 means DefaultMaxDownloadSize. A declared size is always the
	// cap (a server's Content-Length never raises it).
	MaxDownloadSize int64
	// MaxMetadataSize caps a repodata file whose size repomd.xml does not
	// declare, and the decompressed primary list; 0 means
	// DefaultMaxMetadataSize.
	MaxMetadataSize int64
}

func (o *DownloadOptions) withDefaults() DownloadOptions {
	var d DownloadOptions
	if o != nil {
		d = *o
	}
	// Redirects are limited whatever client the caller brings.
	d.Client = withRedirectPolicy(d.Client)
	if d.Attempts <= 0 {
		d.Attempts = 5
	}
	if d.Backoff <= 0 {
		d.Backoff = time.Second
	}
	if d.MaxBackoff <= 0 {
		d.MaxBackoff = 30 * time.Second
	}
	if d.StallTimeout <= 0 {
		d.StallTimeout = 60 * time.Second
	}
	if d.MaxDownloadSize <= 0 {
		d.MaxDownloadSize = DefaultMaxDownloadSize
	}
	if d.MaxMetadataSize <= 0 {
		d.MaxMetadataSize = DefaultMaxMetadataSize
	}
	return d
}

// DownloadEvent reports download progress.
type DownloadEvent struct {
	File    string `json:"file"`
	URL     string `json:"url"`
	Attempt int    `json:"attempt"` // 1-based
	Bytes   int64  `json:"bytes"`   // bytes of the file present so far (resumed bytes included)
	Total   int64  `json:"total"`   // expected size, or -1 when unknown
	Resumed bool   `json:"resumed"` // the attempt continues a partial file
	Done    bool   `json:"done"`    // the file is complete and verified
	Retry   error  `json:"retry"`   // non-nil: the attempt failed with this transient error and will be retried
}

// DownloadRequest names one file to fetch.
type DownloadRequest struct {
	File    string         // file name, used for the cache entry and in errors
	What    string         // "source RPM", "debuginfo RPM", ... for errors
	Release photon.Release // for errors
	URLs    []string       // tried in order; a 404 moves on to the next
	SHA256  string         // expected digest; "" when the metadata gives none
	// SHA512 is the expected SHA-512 digest when the metadata gives that
	// instead (the cache still files the download by its SHA-256).
	SHA512 string
	// Size is the expected size and the cap on the body; 0 when unknown
	// (DownloadOptions.MaxDownloadSize caps it then).
	Size int64
	// Verify, if set, checks the complete file before it enters the cache
	// (used when there is no digest to compare with); an error discards it.
	Verify func(path string) error
}

// digestKnown reports whether the metadata gave a digest to verify against.
func (r *DownloadRequest) digestKnown() bool { return r.SHA256 != "" || r.SHA512 != "" }

// key names the download's partial and lock files.
func (r *DownloadRequest) key() string {
	if r.SHA256 == "" && r.SHA512 != "" {
		return partialKey(r.File, "sha512-"+r.SHA512)
	}
	return partialKey(r.File, r.SHA256)
}

// Download fetches req into the cache and returns the path of the verified
// file. Transient failures are retried, resuming with an HTTP Range
// request, and so is a partial file left by a killed process; any other
// failure or a cancellation removes the partial file, so that the cache
// holds only complete, verified files.
func (c *Cache) Download(ctx context.Context, req DownloadRequest, opts *DownloadOptions) (string, error) {
	if req.File == "" || strings.ContainsAny(req.File, "/\\") || req.File == "." || req.File == ".." {
		return "", fmt.Errorf("photon: download: bad file name %q", req.File)
	}
	if req.SHA256 != "" {
		sum, err := parseSHA256(req.SHA256)
		if err != nil {
			return "", fmt.Errorf("photon: download %s: %w", req.File, err)
		}
		req.SHA256 = sum
		if p, ok := c.Lookup(sum, req.File); ok {
			return p, nil
		}
	} else if req.SHA512 != "" {
		sum, err := parseSHA512(req.SHA512)
		if err != nil {
			return "", fmt.Errorf("photon: download %s: %w", req.File, err)
		}
		req.SHA512 = sum
		if p, ok := c.lookupSHA512(sum, req.File); ok {
			return p, nil
		}
	} else if p, _, ok := c.LookupName(req.File); ok {
		return p, nil
	}
	if len(req.URLs) == 0 {
		return "", fmt.Errorf("photon: download %s: no URL given", req.File)
	}
	o := opts.withDefaults()
	key := req.key()
	partial := c.partialPath(key)
	for _, d := range []string{filepath.Dir(partial), filepath.Dir(c.lockPath(key))} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	unlock, err := flock.Lock(ctx, c.lockPath(key), 0o644)
	if err != nil {
		return "", fmt.Errorf("photon: download %s: waiting for another download of it: %w", req.File, err)
	}
	defer unlock()
	// Whatever ends this call, no partial file outlives it: a success has
	// renamed it into place, a failure or cancellation drops it.
	defer os.Remove(partial)
	// Another run may have finished it while this one waited.
	if req.SHA256 != "" {
		if p, ok := c.Lookup(req.SHA256, req.File); ok {
			return p, nil
		}
	} else if req.SHA512 != "" {
		if p, ok := c.lookupSHA512(req.SHA512, req.File); ok {
			return p, nil
		}
	}
	var notFound []string
	for _, url := range req.URLs {
		p, err := c.downloadURL(ctx, req, url, partial, &o)
		if err == nil {
			return p, nil
		}
		if errors.Is(err, errHTTPNotFound) {
			notFound = append(notFound, url)
			continue
		}
		return "", err
	}
	return "", &NotFoundError{File: req.File, What: req.What, Release: req.Release, URLs: notFound}
}

var errHTTPNotFound = errors.New("HTTP 404")

// transientError marks a failure worth retrying.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

func (c *Cache) downloadURL(ctx context.Context, req DownloadRequest, url, partial string, o *DownloadOptions) (string, error) {
	wait := o.Backoff
	var last error
	for attempt := 1; attempt <= o.Attempts; attempt++ {
		err := fetchOnce(ctx, req, url, partial, attempt, o)
		if err == nil && req.Verify != nil {
			if verr := req.Verify(partial); verr != nil {
				os.Remove(partial)
				return "", fmt.Errorf("photon: download %s from %s: %w", req.File, url, verr)
			}
		}
		if err == nil && req.SHA256 == "" && req.SHA512 != "" {
			p, err := c.commitSHA512(partial, req.File, req.SHA512)
			if err != nil {
				var ce *ChecksumError
				if errors.As(err, &ce) {
					ce.URL = url
					return "", err
				}
				return "", fmt.Errorf("photon: download %s: %w", req.File, err)
			}
			if o.Progress != nil {
				size, _ := fileSize(p)
				o.Progress(DownloadEvent{File: req.File, URL: url, Attempt: attempt, Bytes: size, Total: size, Done: true}.progress())
			}
			return p, nil
		}
		if err == nil {
			p, _, err := c.commit(partial, req.File, req.SHA256)
			if err == nil {
				if o.Progress != nil {
					size, _ := fileSize(p)
					o.Progress(DownloadEvent{File: req.File, URL: url, Attempt: attempt, Bytes: size, Total: size, Done: true}.progress())
				}
				return p, nil
			}
			var ce *ChecksumError
			if errors.As(err, &ce) {
				// Never keep bytes that failed verification: the next run starts afresh.
				os.Remove(partial)
				ce.URL = url
				return "", ce
			}
			return "", fmt.Errorf("photon: download %s: %w", req.File, err)
		}
		var te *transientError
		if !errors.As(err, &te) {
			return "", err
		}
		last = err
		if ctx.Err() != nil {
			return "", fmt.Errorf("photon: download %s from %s: %w", req.File, url, ctx.Err())
		}
		if attempt == o.Attempts {
			break
		}
		if o.Progress != nil {
			o.Progress(DownloadEvent{File: req.File, URL: url, Attempt: attempt, Total: -1, Retry: err}.progress())
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("photon: download %s from %s: %w", req.File, url, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(wait*2, o.MaxBackoff)
	}
	return "", fmt.Errorf("photon: download %s from %s failed after %d attempts: %w", req.File, url, o.Attempts, last)
}

func fileSize(p string) (int64, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// fetchOnce makes one request, appending to partial; nil means the body was
// received completely (not yet verified).
func fetchOnce(ctx context.Context, req DownloadRequest, url, partial string, attempt int, o *DownloadOptions) error {
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if !req.digestKnown() && have > 0 {
		// Without a checksum, bytes from an earlier run could belong to an
		// older file of the same name: start over rather than splice.
		if err := restart(f); err != nil {
			return err
		}
		have = 0
	}
	if req.Size > 0 && have > req.Size {
		if err := restart(f); err != nil {
			return err
		}
		have = 0
	}
	if req.Size > 0 && have == req.Size {
		return nil // complete from an earlier run; commit verifies it
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("photon: download %s: %w", req.File, err)
	}
	if have > 0 {
		hreq.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	watch := newStallWatch(o.StallTimeout, cancel)
	defer watch.stop()
	resp, err := o.Client.Do(hreq)
	if err != nil {
		return wrapAttemptErr(req, url, watch, err)
	}
	defer resp.Body.Close()

	switch {
	case resp.StatusCode == http.StatusOK:
		if have > 0 {
			if err := restart(f); err != nil {
				return err
			}
			have = 0
		}
	case resp.StatusCode == http.StatusPartialContent:
		if start, ok := contentRangeStart(resp.Header.Get("Content-Range")); !ok || start != have {
			if err := restart(f); err != nil {
				return err
			}
			return &transientError{fmt.Errorf("photon: download %s from %s: server resumed at a different offset (%q)", req.File, url, resp.Header.Get("Content-Range"))}
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		// The partial file is stale or already complete: start over.
		if err := restart(f); err != nil {
			return err
		}
		return &transientError{fmt.Errorf("photon: download %s from %s: range not satisfiable, restarting", req.File, url)}
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return errHTTPNotFound
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return &transientError{fmt.Errorf("photon: download %s from %s: %s", req.File, url, resp.Status)}
	default:
		return fmt.Errorf("photon: download %s from %s: %s", req.File, url, resp.Status)
	}

	// The declared size is the cap; only without one does the configured
	// cap apply. Content-Length may lower what is expected, never raise it.
	tooBig := func(announced int64) error {
		if req.Size > 0 {
			return &SizeError{File: req.File, URL: url, Limit: req.Size, Declared: true, Source: "the repository metadata", Announced: announced}
		}
		return &SizeError{File: req.File, URL: url, Limit: o.MaxDownloadSize, Source: "DownloadOptions.MaxDownloadSize", Announced: announced}
	}
	limit := req.Size
	if limit <= 0 {
		limit = o.MaxDownloadSize
	}
	if resp.ContentLength > limit-have {
		return tooBig(have + resp.ContentLength)
	}
	total := int64(-1)
	if req.Size > 0 {
		total = req.Size
	} else if resp.ContentLength >= 0 {
		total = have + resp.ContentLength
	}
	pw := &progressWriter{w: f, n: have, ev: DownloadEvent{File: req.File, URL: url, Attempt: attempt, Total: total, Resumed: have > 0}, fn: o.Progress, watch: watch}
	body := decompress.Cap(resp.Body, limit-have, func() error { return tooBig(-1) })
	if _, err := io.Copy(pw, body); err != nil {
		var se *SizeError
		if errors.As(err, &se) {
			return err
		}
		return wrapAttemptErr(req, url, watch, err)
	}
	if total >= 0 && pw.n != total {
		return &transientError{fmt.Errorf("photon: download %s from %s: got %d of %d bytes", req.File, url, pw.n, total)}
	}
	return nil
}

func restart(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

func wrapAttemptErr(req DownloadRequest, url string, watch *stallWatch, err error) error {
	if watch.fired() {
		return &transientError{fmt.Errorf("photon: download %s from %s: stalled, no data for %s", req.File, url, watch.timeout)}
	}
	// A refused redirect is the server's answer, not a passing failure.
	var re *RedirectError
	if errors.As(err, &re) {
		return fmt.Errorf("photon: download %s from %s: %w", req.File, url, re)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("photon: download %s from %s: %w", req.File, url, err)
	}
	return &transientError{fmt.Errorf("photon: download %s from %s: %w", req.File, url, err)}
}

func contentRangeStart(h string) (int64, bool) {
	rest, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, false
	}
	startStr, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(startStr, 10, 64)
	return n, err == nil
}

type progressWriter struct {
	w     io.Writer
	n     int64
	ev    DownloadEvent
	fn    klpkit.ProgressFunc
	watch *stallWatch
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.n += int64(n)
	p.watch.kick()
	if p.fn != nil {
		p.ev.Bytes = p.n
		p.fn(p.ev.progress())
	}
	return n, err
}

// stallWatch cancels a request that receives nothing for timeout.
type stallWatch struct {
	timeout time.Duration
	timer   *time.Timer
	hit     atomic.Bool
}

func newStallWatch(timeout time.Duration, cancel context.CancelFunc) *stallWatch {
	w := &stallWatch{timeout: timeout}
	w.timer = time.AfterFunc(timeout, func() {
		w.hit.Store(true)
		cancel()
	})
	return w
}

func (w *stallWatch) kick()       { w.timer.Reset(w.timeout) }
func (w *stallWatch) stop()       { w.timer.Stop() }
func (w *stallWatch) fired() bool { return w.hit.Load() }
