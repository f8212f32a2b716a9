// SPDX-License-Identifier: Apache-2.0

package kernelsrc_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// Fetch a kernel's source and debuginfo RPMs (from the public hosts by
// default, verified against the repository metadata and cached), then
// prepare the patched tree, its .config and vmlinux for the build.
func ExampleRepo_Prepare() {
	k, err := photon.ParseKernel("5.10.118-rt67-3.ph4-rt")
	if err != nil {
		fmt.Println(err)
		return
	}
	repo := &kernelsrc.Repo{
		CacheDir: "/var/cache/klpkit/rpms",
		Download: &kernelsrc.DownloadOptions{Progress: klpkit.On(func(ev kernelsrc.DownloadEvent) {
			// ev.Bytes of ev.Total; ev.Retry says why an attempt is retried.
		})},
	}
	src, err := repo.Prepare(context.Background(), k, &kernelsrc.PrepareOptions{Dir: "/var/lib/klpkit/src"})
	var mismatch *kernelsrc.CompilerMismatchError
	switch {
	case errors.As(err, &mismatch):
		fmt.Println("need gcc", mismatch.NeededVersion())
	case errors.Is(err, kernelsrc.ErrPackageNotFound):
		fmt.Println(err) // names the package, the URLs and the release
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Println(src.Tree, src.Config, src.Vmlinux)
	}
}

// Where the packages of a kernel live in Photon's repositories.
func ExampleRepo_Locate() {
	k, _ := photon.ParseKernel("5.10.118-rt67-3.ph4-rt")
	req, _ := (&kernelsrc.Repo{NoMetadata: true}).Locate(context.Background(), k, kernelsrc.SourcePackage)
	for _, u := range req.URLs {
		fmt.Println(u)
	}
	// Output:
	// https://packages.broadcom.com/photon/4.0/photon_srpms_4.0_x86_64/linux-rt-5.10.118-3.ph4.src.rpm
	// https://packages.vmware.com/photon/4.0/photon_srpms_4.0_x86_64/linux-rt-5.10.118-3.ph4.src.rpm
}

// The auto_livepatch.sh -s/-v case: local files, no network.
func ExampleRepo_local() {
	k, _ := photon.ParseKernel("6.1.138-2.ph5")
	repo := &kernelsrc.Repo{
		SourceRPMPath:    "linux-6.1.138-2.ph5.src.rpm",
		DebuginfoRPMPath: "linux-debuginfo-6.1.138-2.ph5.x86_64.rpm",
	}
	_, _ = repo.Prepare(context.Background(), k, &kernelsrc.PrepareOptions{Dir: "work"})
}
