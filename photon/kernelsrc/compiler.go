// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klpkit/klpkit/internal/ccwrap"
)

// ErrCompilerMismatch is returned when the local compiler differs from the
// one that built the kernel: objects it builds would not match vmlinux.
var ErrCompilerMismatch = errors.New("photon: gcc/kernel version mismatch")

// ErrInternal marks a panic recovered while reading an ELF file (debug/elf
// can panic on corrupt input): a bug to report, distinct from the errors
// that describe the file, and one the fuzz targets fail on.
var ErrInternal = errors.New("photon: internal error on unexpected input (please report)")

// CompilerMismatchError gives both compiler identifications.
type CompilerMismatchError struct {
	Vmlinux string `json:"vmlinux"` // path of the kernel image
	Kernel  string `json:"kernel"`  // the kernel's .comment, e.g. "GCC: (GCC) 10.5.0"
	Local   string `json:"local"`   // the local compiler's
}

func (e *CompilerMismatchError) Error() string {
	need := compilerVersion(e.Kernel)
	if need == "" {
		need = e.Kernel
	}
	return fmt.Sprintf("photon: gcc/kernel version mismatch: %s was built with %q, the local compiler is %q; install gcc %s to build livepatches for this kernel",
		e.Vmlinux, e.Kernel, e.Local, need)
}

func (e *CompilerMismatchError) Unwrap() error { return ErrCompilerMismatch }

// NeededVersion is the gcc version that built the kernel, e.g. "10.5.0".
func (e *CompilerMismatchError) NeededVersion() string { return compilerVersion(e.Kernel) }

// compilerVersion picks the last dotted version in a .comment string:
// "GCC: (Debian 12.2.0-14) 12.2.0" -> "12.2.0".
func compilerVersion(comment string) string { return ccwrap.Version(comment) }

// ELFCompiler returns the first "GCC:" string of an ELF file's .comment
// section, as kpatch-build compares it: "GCC: (GCC) 12.2.0". It is
// ccwrap.ELFIdent, the check build.Run runs too.
func ELFCompiler(path string) (string, error) {
	ident, err := ccwrap.ELFIdent(path)
	switch {
	case errors.Is(err, ccwrap.ErrELFPanic):
		return "", fmt.Errorf("%w: %w", ErrInternal, err)
	case err != nil && !errors.Is(err, ccwrap.ErrNoIdent):
		return "", fmt.Errorf("photon: %s: %w", path, err)
	case err != nil:
		return "", fmt.Errorf("photon: %w", err)
	}
	return "GCC: " + ident, nil
}

// LocalCompiler compiles a trivial file with cc the way kpatch-build checks
// it (-c -pg -ffunction-sections) and returns the object's GCC string. cc
// may be a command line through a compiler wrapper (ccache, distcc, icecc,
// kpatch-cc): the real compiler behind it is run. Any compiler output is
// an error.
func LocalCompiler(ctx context.Context, cc, tmpDir string) (string, error) {
	if cc == "" {
		cc = "gcc"
	}
	dir, err := os.MkdirTemp(tmpDir, "cc-check-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "check.c")
	if err := os.WriteFile(src, []byte("int klpkit_check(void) { return 0; }\n"), 0o644); err != nil {
		return "", err
	}
	obj := filepath.Join(dir, "check.o")
	// cc may be a command line through a wrapper ("ccache gcc"): the real
	// compiler is checked, as builds run it.
	w, err := ccwrap.Unwrap(strings.Fields(cc))
	if err != nil {
		return "", fmt.Errorf("photon: compiler check: CC=%q: %w", cc, err)
	}
	prog, err := ccwrap.Unmask(w.Argv[0], os.Getenv("PATH"))
	if err != nil {
		return "", fmt.Errorf("photon: compiler check: CC=%q: %w", cc, err)
	}
	args := append(slices.Clone(w.Argv[1:]), "-c", "-pg", "-ffunction-sections", "-o", obj, src)
	cmd := exec.CommandContext(ctx, prog, args...)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		return "", fmt.Errorf("photon: compiler check: %s failed on a trivial file: %v %s", cc, err, strings.TrimSpace(string(out)))
	}
	return ELFCompiler(obj)
}

// CheckCompiler compares the compiler that built vmlinux with cc: the whole
// .comment string, as kpatch-build does, or with versionOnly just the gcc
// version ("GCC: (Debian 12.2.0-14) 12.2.0" then matches "GCC: (GCC) 12.2.0").
func CheckCompiler(ctx context.Context, vmlinux, cc, tmpDir string, versionOnly bool) (kernelCC string, err error) {
	kernelCC, err = ELFCompiler(vmlinux)
	if err != nil {
		return "", err
	}
	local, err := LocalCompiler(ctx, cc, tmpDir)
	if err != nil {
		return kernelCC, err
	}
	if !ccwrap.Same(local, kernelCC, versionOnly) {
		return kernelCC, &CompilerMismatchError{Vmlinux: vmlinux, Kernel: kernelCC, Local: local}
	}
	return kernelCC, nil
}
