// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"strings"
)

// ConfigCompiler returns the compiler a kernel configuration names in
// CONFIG_CC_VERSION_TEXT, as kbuild wrote it: "gcc-10 (Debian 10.2.1-6)
// 10.2.1 20210110".
func ConfigCompiler(config string) (string, error) {
	data, err := os.ReadFile(config)
	if err != nil {
		return "", err
	}
	cc := ""
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CONFIG_CC_VERSION_TEXT="); ok {
			cc = strings.Trim(v, `"`)
		}
	}
	if cc == "" {
		return "", fmt.Errorf("%s: no CONFIG_CC_VERSION_TEXT", config)
	}
	return cc, nil
}

// CheckBuiltBy checks that an object's .comment names a compiler, and
// only ident ("(Debian 10.2.1-6) 10.2.1 20210110", without "GCC: "): every
// part of it was compiled by that compiler.
func CheckBuiltBy(object, ident string) error {
	f, err := elf.Open(object)
	if err != nil {
		return err
	}
	defer f.Close()
	sec := f.Section(".comment")
	if sec == nil {
		return fmt.Errorf("%s has no .comment", object)
	}
	data, err := sec.Data()
	if err != nil {
		return fmt.Errorf("%s: .comment: %w", object, err)
	}
	n := 0
	for _, s := range bytes.Split(data, []byte{0}) {
		if v, ok := bytes.CutPrefix(s, []byte("GCC: ")); ok {
			if string(v) != ident {
				return fmt.Errorf("%s: built by %q, not the kernel's compiler %q", object, v, ident)
			}
			n++
		}
	}
	if n == 0 {
		return fmt.Errorf("%s: .comment names no compiler: %q", object, data)
	}
	return nil
}
