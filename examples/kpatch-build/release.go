package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/build"
)

// targetRelease works out the kernel release the module is for: -a, the
// vmlinux banner, or the tree's include/config/kernel.release. When -a and
// the banner both give one they must agree (kpatch-build: "Kernel version
// mismatch").
func targetRelease(flag, vmlinux, srcDir string) (string, error) {
	var banner string
	if vmlinux != "" {
		var err error
		banner, err = build.KernelRelease(vmlinux)
		if err != nil && flag == "" {
			return "", err
		}
	}
	switch {
	case flag != "" && banner != "" && flag != banner:
		//lint:ignore ST1005 kpatch-build's message, which scripts match
		return "", fmt.Errorf("Kernel version mismatch: %s was specified but %s is %s", flag, vmlinux, banner)
	case flag != "":
		return flag, nil
	case banner != "":
		return banner, nil
	}
	data, err := os.ReadFile(filepath.Join(srcDir, "include", "config", "kernel.release"))
	if err == nil {
		if rel := strings.TrimSpace(string(data)); rel != "" {
			return rel, nil
		}
	}
	return "", fmt.Errorf("cannot tell the kernel release: give -a, or a vmlinux (-v), or a tree with include/config/kernel.release")
}
