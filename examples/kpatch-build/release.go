// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"

	"github.com/klpkit/klpkit/build"
)

// targetRelease works out the kernel release the module is for: -a, the
// vmlinux banner, or the tree's release (build.KbuildRelease: UTS_RELEASE,
// else include/config/kernel.release). When -a and
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
	// What vermagic gets: UTS_RELEASE, else kernel.release (they differ in
	// Debian's trees).
	rel, err := build.KbuildRelease(srcDir)
	if err != nil {
		return "", fmt.Errorf("kernel release of %s: %w", srcDir, err)
	}
	if rel != "" {
		return rel, nil
	}
	return "", fmt.Errorf("cannot tell the kernel release: give -a, or a vmlinux (-v), or a prepared tree (include/generated/utsrelease.h or include/config/kernel.release)")
}
