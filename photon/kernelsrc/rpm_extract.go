// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"context"
	"os"

	"github.com/klpkit/klpkit/rpmpkg"
)

// extractRPM unpacks the payload entries of an RPM file that filter keeps
// (all when nil; it sees cleaned relative payload paths) into dest, through
// package rpmpkg, which verifies the header and payload digests and refuses
// entries that would land outside dest.
func extractRPM(ctx context.Context, file, dest string, filter func(string) bool) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = rpmpkg.Extract(ctx, f, dest, &rpmpkg.ExtractOptions{Filter: filter})
	return err
}

// verifyRPMDigests reads a whole RPM file and checks its header and payload
// digests.
func verifyRPMDigests(ctx context.Context, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = rpmpkg.Inspect(ctx, f, nil)
	return err
}
