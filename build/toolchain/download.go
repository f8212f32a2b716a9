// SPDX-License-Identifier: Apache-2.0

package toolchain

import (
	"context"
	"fmt"
	"net/http"
)

// Download fetches the .deb of one resolved entry into file, for callers
// that want a package's files rather than a root of it (a kernel image,
// its debug symbols, its source). The file appears, through a temporary
// file in its directory, only when its size and SHA-256 (or SHA-512) are
// those of the signed index; network errors and 5xx answers are retried as Provision's
// downloads are. client nil means http.DefaultClient.
func Download(ctx context.Context, client *http.Client, e Entry, file string) error {
	if err := e.checkDigestFields(); err != nil {
		return fmt.Errorf("toolchain: %w", err)
	}
	return fetcher{client: client}.getVerified(ctx, e.URL, file, e.digest(), e.Size)
}

// Package returns name's package at version, or its highest version when
// version is "", and nil when the indexes hold neither.
func (x *Index) Package(name, version string) *Package {
	r := Relation{Name: name}
	if version != "" {
		r.Op, r.Version = "=", version
	}
	return x.real(r)
}

// Entry is p as a List entry: what Download fetches and how it checks it.
func (p *Package) Entry() Entry {
	return Entry{Name: p.Name, Version: p.Version, Arch: p.Arch, SHA256: p.SHA256, Size: p.Size, URL: p.URL}
}
