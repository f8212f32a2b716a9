// SPDX-License-Identifier: Apache-2.0

package lab_test

import (
	"context"
	"fmt"
	"os"

	"github.com/klpkit/klpkit/internal/lab"
)

// Open a lab prepared by `make lab` and build the sample livepatch against it.
func ExampleOpen() {
	l, err := lab.Open(lab.DirFromEnv(os.Getenv))
	if err != nil {
		fmt.Println("run make lab first:", err)
		return
	}
	kos, err := l.BuildModule(context.Background(), "testdata/lab/livepatch-sample", os.TempDir(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(l.KernelRelease, l.Vmlinuz, kos)
}
