// SPDX-License-Identifier: Apache-2.0

package photonsource_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/photonsource"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// Build a livepatch for a Photon kernel from a mirror of Photon's
// repositories: the SRPM and debuginfo RPM are fetched (checksummed,
// cached), the tree prepared and built once, then the pipeline runs.
func Example() {
	k, err := photon.ParseKernel("6.1.138-2.ph5")
	if err != nil {
		fmt.Println(err)
		return
	}
	src := &photonsource.Source{
		Kernel: k,
		Repo:   &kernelsrc.Repo{BaseURLs: []string{"http://mirror.example/photon"}, CacheDir: "/var/cache/klpkit/rpms"},
		Dir:    "/var/lib/klpkit/src",
	}
	res, err := build.Run(context.Background(), build.Options{Source: src, Patches: []string{"fix.patch"}, OutputDir: "/var/lib/klpkit/out"})
	switch {
	case errors.Is(err, kernelsrc.ErrPackageNotFound):
		fmt.Println("not on the mirror:", err)
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Println(res.Module)
	}
}
