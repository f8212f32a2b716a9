// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klpkit/klpkit/internal/atomicfile"
)

// extractDeb copies the members of a .deb's data archive named in want
// (member path without "./" → destination file) out of the package. It reads
// the data archive through dpkg-deb --fsys-tarfile and stops as soon as every
// member is found. Each destination is written to a temporary file and renamed.
func extractDeb(ctx context.Context, r *runner, deb string, want map[string]string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := r.command(ctx, "", "dpkg-deb", "--fsys-tarfile", deb)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("dpkg-deb --fsys-tarfile %s: %w", deb, err)
	}
	missing, copyErr := extractTar(stdout, want)
	cancel() // stops dpkg-deb when we are done early
	waitErr := cmd.Wait()
	if copyErr != nil {
		return fmt.Errorf("extract from %s: %w", deb, copyErr)
	}
	if len(missing) > 0 {
		if waitErr != nil {
			return commandError(cmd, waitErr, stderr.String())
		}
		return fmt.Errorf("%s has no %s", deb, strings.Join(missing, ", "))
	}
	return nil
}

// extractTar copies the wanted members of a tar stream to their destinations
// and returns the names it did not find. Only regular files are taken: a link
// or device with a wanted name is an error, and nothing outside the given
// destinations is ever written.
func extractTar(r io.Reader, want map[string]string) (missing []string, err error) {
	left := make(map[string]string, len(want))
	for k, v := range want {
		left[k] = v
	}
	tr := tar.NewReader(r)
	for len(left) > 0 {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(filepath.Clean("/"+hdr.Name), "/")
		dest, ok := left[name]
		if !ok {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("member %s is not a regular file (type %q)", name, hdr.Typeflag)
		}
		if err := atomicfile.Copy(dest, 0o644, func(w io.Writer) error { _, err := io.Copy(w, tr); return err }); err != nil {
			return nil, fmt.Errorf("member %s: %w", name, err)
		}
		delete(left, name)
	}
	for k := range left {
		missing = append(missing, k)
	}
	sort.Strings(missing)
	return missing, nil
}
