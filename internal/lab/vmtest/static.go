// SPDX-License-Identifier: Apache-2.0

package vmtest

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// IsStatic reports whether the ELF executable needs no dynamic loader.
func IsStatic(path string) (bool, error) {
	f, err := elf.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false, nil
		}
	}
	return true, nil
}

// guestBinary returns a static build of the running test binary: the binary
// itself when it is static (CGO_ENABLED=0), else a copy rebuilt with
// CGO_ENABLED=0 go test -c from the package directory (go test's working
// directory), cached in the temp dir under the hash of the running binary.
func guestBinary(t testing.TB) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("vmtest: %v", err)
	}
	static, err := IsStatic(exe)
	if err != nil {
		t.Fatalf("vmtest: test binary: %v", err)
	}
	if static {
		return exe
	}
	sum, err := fileHash(exe)
	if err != nil {
		t.Fatalf("vmtest: %v", err)
	}
	dir := filepath.Join(os.TempDir(), "klpkit-vmtest")
	out := filepath.Join(dir, sum+".test")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("vmtest: %v", err)
	}
	t.Logf("vmtest: test binary is dynamically linked; building a static copy (CGO_ENABLED=0 go test -c; run tests with CGO_ENABLED=0 to skip this)")
	tmp := fmt.Sprintf("%s.tmp%d", out, os.Getpid())
	cmd := exec.Command(goTool(), "test", "-c", "-o", tmp, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		t.Fatalf("vmtest: building a static test binary: %v\n%s", err, msg)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatalf("vmtest: %v", err)
	}
	pruneStaticCache(dir, out)
	return out
}

// pruneStaticCache deletes static test binaries (and leftovers of
// interrupted builds) not touched for an hour: every code change makes a
// new one.
func pruneStaticCache(dir, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		info, err := e.Info()
		if err != nil || p == keep || time.Since(info.ModTime()) < time.Hour {
			continue
		}
		os.Remove(p)
	}
}

// goTool is the go command: from PATH, else the one go test usually lives beside.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

func fileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:24], nil
}

// BuildStatic builds package pkg of the module at root into out as a
// static binary (CGO_ENABLED=0) that a guest can run, and returns out.
func BuildStatic(t testing.TB, root, pkg, out string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), goTool(), "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}
