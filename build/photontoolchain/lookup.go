// SPDX-License-Identifier: Apache-2.0

package photontoolchain

import (
	"context"

	"github.com/klpkit/klpkit/build/toolchain"
)

// Planned is the toolchain root ProvisionFor would return, as Lookup finds
// it without provisioning it.
type Planned struct {
	// List is the root's packages: each one's version and URL.
	List toolchain.List
	// Repos are the repository URLs the list was resolved from.
	Repos []string
	// Dir is the root's directory in the cache; Cached reports whether
	// the cache holds it complete (ProvisionFor then downloads nothing).
	Dir    string
	Cached bool
}

// Lookup resolves the toolchain of the compiler ident names as
// ProvisionFor does and says where its root is, or would be, and whether
// the cache holds it: only the repositories' metadata is read, no package
// is downloaded and no root is built. A dry run's answer.
func (p *Provisioner) Lookup(ctx context.Context, ident string) (*Planned, error) {
	c, err := p.cache()
	if err != nil {
		return nil, err
	}
	list, repos, err := p.resolve(ctx, ident)
	if err != nil {
		return nil, err
	}
	_, cached := c.Lookup(list)
	return &Planned{List: list, Repos: repos, Dir: c.RootDir(list), Cached: cached}, nil
}
