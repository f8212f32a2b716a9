package build

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os/exec"
	"strings"
)

// kernelCompiler returns the compiler identification of the kernel: the
// "GCC: ..." string in vmlinux's .comment, else CONFIG_CC_VERSION_TEXT,
// normalised to what follows the program name ("(Debian 12.2.0-14) 12.2.0").
func kernelCompiler(vmlinux string, c kconfig) (string, error) {
	if vmlinux != "" {
		f, err := elf.Open(vmlinux)
		if err != nil {
			return "", fmt.Errorf("compiler check: %w", err)
		}
		defer f.Close()
		if sec := f.Section(".comment"); sec != nil {
			data, err := sec.Data()
			if err != nil {
				return "", fmt.Errorf("compiler check: %s .comment: %w", vmlinux, err)
			}
			for _, s := range bytes.Split(data, []byte{0}) {
				if v, ok := strings.CutPrefix(string(s), "GCC: "); ok {
					return strings.TrimSpace(v), nil
				}
			}
		}
	}
	if v := c["CONFIG_CC_VERSION_TEXT"]; v != "" {
		return afterProgramName(v), nil
	}
	return "", fmt.Errorf("compiler check: neither vmlinux .comment nor CONFIG_CC_VERSION_TEXT names the kernel's compiler")
}

// localCompiler returns the identification of cc in the same form.
func localCompiler(ctx context.Context, cc string) (string, error) {
	out, err := exec.CommandContext(ctx, cc, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("compiler check: %s --version: %w", cc, err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return afterProgramName(first), nil
}

// afterProgramName drops the program name from a `gcc --version` line:
// "gcc-12 (Debian 12.2.0-14) 12.2.0" -> "(Debian 12.2.0-14) 12.2.0".
func afterProgramName(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ' '); i >= 0 && !strings.HasPrefix(s, "(") {
		return strings.TrimSpace(s[i+1:])
	}
	return s
}

func checkCompiler(ctx context.Context, cc, vmlinux string, c kconfig) (string, error) {
	want, err := kernelCompiler(vmlinux, c)
	if err != nil {
		return "", err
	}
	got, err := localCompiler(ctx, cc)
	if err != nil {
		return "", err
	}
	if got != want {
		return got, fmt.Errorf("kernel built with %q, %s is %q (use the kernel's compiler or skip the check): %w", want, cc, got, ErrCompilerMismatch)
	}
	return got, nil
}
