// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"errors"
	"fmt"
	"net/http"
)

// Defaults for the caps of DownloadOptions.
const (
	// DefaultMaxDownloadSize caps a package download whose size no metadata
	// declares. Photon's largest debuginfo RPMs are under 1 GiB.
	DefaultMaxDownloadSize = 4 << 30
	// DefaultMaxMetadataSize caps a repository metadata file whose size
	// repomd.xml does not declare, and the decompressed primary list.
	// Photon's largest primary lists are a few hundred megabytes.
	DefaultMaxMetadataSize = 2 << 30
	// maxRedirects is how many redirects one request may follow.
	maxRedirects = 5
)

// ErrTooLarge marks a body or decompressed file larger than declared or
// allowed. It is not retried.
var ErrTooLarge = errors.New("photon: larger than allowed")

// SizeError says what was too large and which limit it broke.
type SizeError struct {
	File  string `json:"file"`
	URL   string `json:"url"`
	Limit int64  `json:"limit"`
	// Declared is true when Limit is a size the metadata declares; Source
	// then names the metadata ("the repository metadata", "repomd.xml"),
	// else the configured cap ("DownloadOptions.MaxDownloadSize").
	Declared bool   `json:"declared"`
	Source   string `json:"source"`
	// Announced is the server's Content-Length when that alone exceeded the
	// limit (nothing was read then), or -1.
	Announced int64 `json:"announced"`
	// Decompressed is set when the decompressed data broke the limit.
	Decompressed bool `json:"decompressed"`
}

func (e *SizeError) Error() string {
	where := e.File
	if e.URL != "" {
		where += " from " + e.URL
	}
	limit := fmt.Sprintf("the limit of %d bytes (%s)", e.Limit, e.Source)
	if e.Declared {
		limit = fmt.Sprintf("the %d bytes %s declares", e.Limit, e.Source)
	}
	switch {
	case e.Decompressed:
		return fmt.Sprintf("photon: %s decompresses to more than %s", where, limit)
	case e.Announced >= 0:
		return fmt.Sprintf("photon: %s: the server announces %d bytes, more than %s", where, e.Announced, limit)
	}
	return fmt.Sprintf("photon: %s: the server sends more than %s", where, limit)
}

func (e *SizeError) Unwrap() error { return ErrTooLarge }

// ErrRedirectRefused marks a redirect to a scheme other than http(s) or
// beyond the fifth. It is not retried.
var ErrRedirectRefused = errors.New("photon: redirect refused")

// RedirectError names the refused redirect.
type RedirectError struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("photon: redirect from %s to %s refused: %s", e.From, e.To, e.Reason)
}

func (e *RedirectError) Unwrap() error { return ErrRedirectRefused }

// checkRedirect allows at most maxRedirects redirects, each to http or https.
func checkRedirect(req *http.Request, via []*http.Request) error {
	from := via[len(via)-1].URL.Redacted()
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return &RedirectError{From: from, To: req.URL.Redacted(), Reason: fmt.Sprintf("scheme %q (only http and https are followed)", s)}
	}
	if len(via) > maxRedirects {
		return &RedirectError{From: from, To: req.URL.Redacted(), Reason: fmt.Sprintf("more than %d redirects", maxRedirects)}
	}
	return nil
}

// withRedirectPolicy returns a copy of c (a new client when nil) that
// applies checkRedirect before c's own policy; c itself is not modified.
func withRedirectPolicy(c *http.Client) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	inner := cp.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := checkRedirect(req, via); err != nil {
			return err
		}
		if inner != nil {
			return inner(req, via)
		}
		return nil
	}
	return &cp
}
