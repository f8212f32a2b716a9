package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// targetRelease works out the kernel release the module is for: -a, the
// vmlinux banner, or the tree's include/config/kernel.release. When -a and
// the banner both give one they must agree (kpatch-build: "Kernel version
// mismatch").
func targetRelease(flag, vmlinux, srcDir string) (string, error) {
	var banner string
	if vmlinux != "" {
		var err error
		banner, err = vmlinuxRelease(vmlinux)
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

// bannerPrefix starts the kernel's linux_banner: "Linux version <release> (...".
var bannerPrefix = []byte("Linux version ")

// vmlinuxRelease reads the release from vmlinux's "Linux version" banner in
// .rodata.
func vmlinuxRelease(path string) (rel string, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("vmlinux %s: %w", path, err)
	}
	defer f.Close()
	defer func() {
		// debug/elf can panic on corrupt input.
		if r := recover(); r != nil {
			rel, err = "", fmt.Errorf("vmlinux %s: corrupt ELF: %v", path, r)
		}
	}()
	sec := f.Section(".rodata")
	if sec == nil || sec.Type == elf.SHT_NOBITS {
		return "", fmt.Errorf("vmlinux %s has no .rodata section to read the kernel version from", path)
	}
	data, err := sec.Data()
	if err != nil {
		return "", fmt.Errorf("vmlinux %s: .rodata: %w", path, err)
	}
	rel = bannerRelease(data)
	if rel == "" {
		return "", fmt.Errorf("vmlinux %s: no \"Linux version\" banner in .rodata", path)
	}
	return rel, nil
}

// bannerRelease finds the first "Linux version <release> (" in data and
// returns the release, or "".
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
