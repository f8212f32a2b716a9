// SPDX-License-Identifier: Apache-2.0

package photonlab_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// Build the Photon lab (once; later calls return the cached lab), serve its
// repository on loopback and let package kernelsrc fetch and prepare the
// kernel from it, as auto_livepatch does from Photon's repositories.
func Example() {
	ctx := context.Background()
	pl, err := photonlab.Prepare(ctx, photonlab.Config{
		LabDir: lab.DirFromEnv(os.Getenv), // the Debian lab must be prepared there
		Assets: "testdata/photonlab",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(pl.RepoDir)))
	defer srv.Close()
	k, _ := pl.Kernel() // e.g. 6.1.192-1.ph5
	repo := &kernelsrc.Repo{BaseURLs: []string{srv.URL}, CacheDir: os.TempDir()}
	src, err := repo.Prepare(ctx, k, &kernelsrc.PrepareOptions{Dir: os.TempDir(), CC: "gcc-12"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(src.Tree, pl.Vmlinuz) // the tree the VM's kernel was built from, and that kernel
}
