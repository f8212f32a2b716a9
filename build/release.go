// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// KernelRelease returns the release (uname -r) in a vmlinux's banner
// ("Linux version 6.1.0-56-amd64 (...)" in .rodata), as kpatch-build does
// for -s without a target release. A corrupt ELF file is an error, never a
// panic.
func KernelRelease(vmlinux string) (rel string, err error) {
	f, err := elf.Open(vmlinux)
	if err != nil {
		return "", fmt.Errorf("vmlinux %s: %w", vmlinux, err)
	}
	defer f.Close()
	defer func() {
		// debug/elf can panic on corrupt input.
		if r := recover(); r != nil {
			rel, err = "", fmt.Errorf("vmlinux %s: %w: %v", vmlinux, ErrInternal, r)
		}
	}()
	sec := f.Section(".rodata")
	if sec == nil || sec.Type == elf.SHT_NOBITS {
		return "", fmt.Errorf("vmlinux %s has no .rodata section to read the kernel version from", vmlinux)
	}
	data, err := sec.Data()
	if err != nil {
		return "", fmt.Errorf("vmlinux %s: .rodata: %w", vmlinux, err)
	}
	if rel = bannerRelease(data); rel == "" {
		return "", fmt.Errorf("vmlinux %s: no \"Linux version\" banner in .rodata", vmlinux)
	}
	return rel, nil
}

// bannerPrefix starts the kernel's linux_banner: "Linux version <release> (...".
var bannerPrefix = []byte("Linux version ")

// bannerRelease finds the first "Linux version <release> " in data whose
// release is one uname -r could print (the printk format string that also
// holds the prefix does not count), or "".
func bannerRelease(data []byte) string {
	for {
		i := bytes.Index(data, bannerPrefix)
		if i < 0 {
			return ""
		}
		data = data[i+len(bannerPrefix):]
		end := bytes.IndexAny(data, " \x00\n")
		if end > 0 && end < 256 && data[end] == ' ' && validRelease(data[:end]) {
			return string(data[:end])
		}
	}
}

// validRelease accepts what uname -r can print: printable, no slash.
func validRelease(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || c == '/' || c == '%' {
			return false
		}
	}
	return len(b) > 0
}

// checkTreeMatches catches a tree prepared for another kernel before
// anything is compiled: the tree's own .config must say what Config says,
// and the link tree's release (KbuildRelease) must be the target's. When a
// tree's kernel.release differs from it, KERNELRELEASE is added to the make
// arguments.
func checkTreeMatches(t *Tree, want kconfig) error {
	own := filepath.Join(t.Dir, ".config")
	if filepath.Clean(own) != filepath.Clean(t.Config) {
		got, err := readKconfig(own)
		if err != nil {
			return fmt.Errorf("source tree %s is not prepared: %w", t.Dir, err)
		}
		if diff := configDiff(unwrappedCompilerText(got), unwrappedCompilerText(want)); diff != "" {
			return fmt.Errorf("%w: source tree %s was configured differently from %s (%s): copy the config in and run make olddefconfig prepare", ErrTreeMismatch, t.Dir, t.Config, diff)
		}
	}
	rel, err := KbuildRelease(t.KbuildDir)
	if err != nil {
		return err
	}
	if rel == "" {
		return nil // checked on the module's vermagic after the link
	}
	if rel != t.Release && !overridesRelease(t.MakeArgs, t.Release) {
		return fmt.Errorf("%w: kbuild tree %s is for kernel %s, not %s: the module's vermagic would not match", ErrTreeMismatch, t.KbuildDir, rel, t.Release)
	}
	// Debian's trees are built with KERNELRELEASE on make's command line:
	// kernel.release holds the upstream version (6.1.192), UTS_RELEASE the
	// package's (6.1.0-57-amd64). A make without it would regenerate
	// utsrelease.h from kernel.release, so every make gets it.
	if !hasMakeVar(t.MakeArgs, "KERNELRELEASE") {
		for _, dir := range []string{t.KbuildDir, t.Dir} {
			if file := readRelease(filepath.Join(dir, "include/config/kernel.release")); file != "" && file != t.Release {
				t.MakeArgs = append(slices.Clip(t.MakeArgs), "KERNELRELEASE="+t.Release)
				break
			}
		}
	}
	return nil
}

// KbuildRelease returns the kernel release a prepared tree compiles into
// modules' vermagic: UTS_RELEASE from include/generated/utsrelease.h, or
// else include/config/kernel.release (a tree prepared without
// KERNELRELEASE has the same in both). "" when the tree has neither.
func KbuildRelease(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "include/generated/utsrelease.h"))
	switch {
	case err == nil:
		if rel := utsRelease(data); rel != "" {
			return rel, nil
		}
		return "", fmt.Errorf("%s: no UTS_RELEASE definition", filepath.Join(dir, "include/generated/utsrelease.h"))
	case !errors.Is(err, os.ErrNotExist):
		return "", err
	}
	data, err = os.ReadFile(filepath.Join(dir, "include/config/kernel.release"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}

// utsRelease reads `#define UTS_RELEASE "<release>"`.
func utsRelease(data []byte) string {
	for line := range strings.SplitSeq(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "#define" && f[1] == "UTS_RELEASE" {
			if rel, err := strconv.Unquote(f[2]); err == nil && validRelease([]byte(rel)) {
				return rel
			}
		}
	}
	return ""
}

// readRelease returns a kernel.release file's content, "" if unreadable.
func readRelease(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

func hasMakeVar(args []string, name string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
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
