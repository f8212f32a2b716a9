package build

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KernelRelease returns the release (uname -r) in a vmlinux's banner
// ("Linux version 6.1.0-56-amd64 (...)"), as kpatch-build does for -s
// without a target release.
func KernelRelease(vmlinux string) (string, error) {
	f, err := elf.Open(vmlinux)
	if err != nil {
		return "", fmt.Errorf("kernel release: %w", err)
	}
	defer f.Close()
	sec := f.Section(".rodata")
	if sec == nil {
		return "", fmt.Errorf("kernel release: %s has no .rodata", vmlinux)
	}
	data, err := sec.Data()
	if err != nil {
		return "", fmt.Errorf("kernel release: %s: %w", vmlinux, err)
	}
	const banner = "Linux version "
	for rest := data; ; {
		i := bytes.Index(rest, []byte(banner))
		if i < 0 {
			return "", fmt.Errorf("kernel release: no %q banner in %s", strings.TrimSpace(banner), vmlinux)
		}
		rest = rest[i+len(banner):]
		end := bytes.IndexAny(rest, " \x00")
		if end > 0 && !bytes.ContainsAny(rest[:end], "%\n") {
			return string(rest[:end]), nil
		}
	}
}

// checkTreeMatches catches a tree prepared for another kernel before
// anything is compiled: the tree's own .config must say what Config says,
// and the link tree's kernel.release must be the target's.
func checkTreeMatches(t *Tree, want kconfig) error {
	own := filepath.Join(t.Dir, ".config")
	if filepath.Clean(own) != filepath.Clean(t.Config) {
		got, err := readKconfig(own)
		if err != nil {
			return fmt.Errorf("source tree %s is not prepared: %w", t.Dir, err)
		}
		if diff := configDiff(got, want); diff != "" {
			return fmt.Errorf("source tree %s was configured differently from %s (%s): copy the config in and run make olddefconfig prepare", t.Dir, t.Config, diff)
		}
	}
	data, err := os.ReadFile(filepath.Join(t.KbuildDir, "include/config/kernel.release"))
	if errors.Is(err, os.ErrNotExist) {
		return nil // checked on the module's vermagic after the link
	}
	if err != nil {
		return err
	}
	if rel := strings.TrimSpace(string(data)); rel != t.Release && !overridesRelease(t.MakeArgs, t.Release) {
		return fmt.Errorf("kbuild tree %s is for kernel %s, not %s: the module's vermagic would not match", t.KbuildDir, rel, t.Release)
	}
	return nil
}

func overridesRelease(args []string, release string) bool {
	for _, a := range args {
		if a == "KERNELRELEASE="+release {
			return true
		}
	}
	return false
}

// configDiff names up to three options that differ, "" when none do.
func configDiff(a, b kconfig) string {
	var diffs []string
	note := func(k string) {
		if len(diffs) < 3 {
			diffs = append(diffs, fmt.Sprintf("%s=%q vs %q", k, a[k], b[k]))
		}
	}
	for k, v := range a {
		if b[k] != v {
			note(k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			note(k)
		}
	}
	return strings.Join(diffs, ", ")
}
