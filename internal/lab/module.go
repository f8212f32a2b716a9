// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Sample livepatch module in testdata/lab/livepatch-sample.
const (
	// SampleName is the module's name (and its /sys/kernel/livepatch directory).
	SampleName = "klplab_sample"
	// SampleMarker is what /proc/cmdline shows while the sample is enabled.
	SampleMarker = "klpkit-lab-sample: /proc/cmdline is livepatched"
)

// BuildModule builds the out-of-tree module whose sources (C files and a
// Kbuild file) are in srcDir against the lab kernel's headers with kbuild
// (inside the lab's toolchain root when it has one: see Make), and returns
// the paths of the .ko files it produced. The sources are copied
// into a work directory under outDir first, so srcDir stays clean; the
// .ko files are left in outDir.
func (l *Lab) BuildModule(ctx context.Context, srcDir, outDir string, log *slog.Logger) ([]string, error) {
	work, err := os.MkdirTemp(outDir, "kbuild-")
	if err != nil {
		return nil, fmt.Errorf("build module: %w", err)
	}
	defer os.RemoveAll(work)
	if err := copySources(srcDir, work); err != nil {
		return nil, fmt.Errorf("build module %s: %w", srcDir, err)
	}
	headers, err := l.KbuildHeaders()
	if err != nil {
		return nil, err
	}
	if err := l.Make(ctx, log, work, nil, "-C", headers, "M="+work, "modules"); err != nil {
		return nil, fmt.Errorf("build module %s: %w", srcDir, err)
	}
	kos, _ := filepath.Glob(filepath.Join(work, "*.ko"))
	if len(kos) == 0 {
		return nil, fmt.Errorf("build module %s: kbuild produced no .ko", srcDir)
	}
	var out []string
	for _, ko := range kos {
		dest := filepath.Join(outDir, filepath.Base(ko))
		if err := os.Rename(ko, dest); err != nil {
			return nil, fmt.Errorf("build module: %w", err)
		}
		out = append(out, dest)
	}
	return out, nil
}

// copySources copies the regular files of srcDir (not subdirectories, not
// build products) into dst.
func copySources(srcDir, dst string) error {
	entries, err := os.ReadDir(srcDir)
	if err != nil {
		return err
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || isBuildProduct(name) {
			continue
		}
		data, err := fs.ReadFile(os.DirFS(srcDir), name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, name), data, 0o644); err != nil {
			return err
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("no source files")
	}
	return nil
}

func isBuildProduct(name string) bool {
	for _, ext := range []string{".o", ".ko", ".mod", ".mod.c", ".symvers", ".order", ".cmd"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}
