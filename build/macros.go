// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/klpkit/klpkit/internal/atomicfile"
)

// patchHeaders are klpkit's kpatch-macros.h and kpatch-syscall.h: the
// callback, ignore, shadow and syscall macros of kpatch, for patches
// written for kpatch-build to compile unchanged.
//
//go:embed include/*.h
var patchHeaders embed.FS

// patchIncludeName is the directory, next to the overlay, that holds the
// patch headers; the patched compile has it on its include path, as
// kpatch-build's KCFLAGS have kpatch's patch directory.
const patchIncludeName = "kpatch-include"

// patchIncludeDir writes the patch headers next to the overlay (once;
// the caller serializes calls) and returns their directory.
func patchIncludeDir(ov *overlay) (string, error) {
	dir := filepath.Join(filepath.Dir(ov.dir), patchIncludeName)
	entries, err := patchHeaders.ReadDir("include")
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		data, err := patchHeaders.ReadFile(path.Join("include", e.Name()))
		if err != nil {
			return "", err
		}
		dst := filepath.Join(dir, e.Name())
		if old, err := os.ReadFile(dst); err == nil && bytes.Equal(old, data) {
			continue
		}
		if err := atomicfile.WriteFile(dst, data, 0o644); err != nil {
			return "", fmt.Errorf("patch headers: %w", err)
		}
	}
	return dir, nil
}
