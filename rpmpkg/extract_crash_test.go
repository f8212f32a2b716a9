// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit"
)

// Environment of the child process that TestExtractRecoversAfterKill kills.
const (
	crashPkgEnv   = "RPMPKG_TEST_CRASH_PKG"
	crashDestEnv  = "RPMPKG_TEST_CRASH_DEST"
	crashAfterEnv = "RPMPKG_TEST_CRASH_AFTER"
)

// TestExtractCrashChild is the child: it extracts and SIGKILLs itself
// after the given number of written entries. Run without its environment
// it does nothing.
func TestExtractCrashChild(t *testing.T) {
	pkg := os.Getenv(crashPkgEnv)
	if pkg == "" {
		return // only meaningful as TestExtractRecoversAfterKill's child
	}
	after, _ := strconv.Atoi(os.Getenv(crashAfterEnv))
	raw, err := os.ReadFile(pkg)
	require.NoError(t, err)
	n := 0
	_, _ = Extract(context.Background(), onlyReader{bytes.NewReader(raw)}, os.Getenv(crashDestEnv), &ExtractOptions{Progress: klpkit.On(func(ExtractEvent) {
		if n++; n == after {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	})})
	t.Fatal("not killed")
}

// leftovers lists the names under dir that an extraction uses for itself.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(fi.Name(), ".rpmpkg") {
			out = append(out, p)
		}
		return err
	}))
	return out
}

// digested returns a package with a correct payload digest.
func digested(t *testing.T, cpio []byte) []byte {
	sum := sha256.Sum256(gzipBytes(t, cpio))
	return withPayloadDigest(t, cpio, hex.EncodeToString(sum[:]))
}

// An extraction killed (SIGKILL) at any entry leaves a journal; the next
// extraction into the same dest rolls the killed one back first, so that
// dest is as it was before it, with no backup, temporary or spool file
// left: a failing next extraction leaves exactly the state from before the
// killed one, a succeeding one the package.
func TestExtractRecoversAfterKill(t *testing.T) {
	entries := []testEntry{dir("./etc"), reg("./etc/x.conf", "package"), reg("./etc/new", "new"), dir("./etc/sub"),
		reg("./etc/sub/a", "a"), symlink("./etc/l", "x.conf"), reg("./keep", "theirs")}
	good := digested(t, cpioBytes(entries, true))
	bad := withPayloadDigest(t, cpioBytes(entries, true), hex.EncodeToString(make([]byte, sha256.Size)))
	pkg := filepath.Join(t.TempDir(), "p.rpm")
	require.NoError(t, os.WriteFile(pkg, good, 0o644))
	for after := 1; after <= 7; after++ {
		t.Run(fmt.Sprint(after), func(t *testing.T) {
			parent := t.TempDir()
			dest := filepath.Join(parent, "dest")
			require.NoError(t, os.MkdirAll(filepath.Join(dest, "etc"), 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(dest, "etc/x.conf"), []byte("mine"), 0o600))
			require.NoError(t, os.WriteFile(filepath.Join(dest, "keep"), []byte("keep"), 0o644))
			before := snapshot(t, dest)

			cmd := exec.Command(os.Args[0], "-test.run=^TestExtractCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashPkgEnv+"="+pkg, crashDestEnv+"="+dest, crashAfterEnv+"="+strconv.Itoa(after))
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, "%s", out)
			require.Equal(t, syscall.SIGKILL, ee.Sys().(syscall.WaitStatus).Signal(), "%s", out)
			require.NotEmpty(t, leftovers(t, parent), "the kill left the extraction's own files")

			_, err = Extract(context.Background(), bytes.NewReader(bad), dest, nil)
			require.ErrorIs(t, err, ErrDigestMismatch)
			assert.Equal(t, before, snapshot(t, dest), "rolled back to the state before the killed extraction")
			assert.Empty(t, leftovers(t, parent))

			_, err = Extract(context.Background(), onlyReader{bytes.NewReader(good)}, dest, nil)
			require.NoError(t, err)
			got, err := os.ReadFile(filepath.Join(dest, "etc/x.conf"))
			require.NoError(t, err)
			assert.Equal(t, "package", string(got))
			assert.Empty(t, leftovers(t, parent))
		})
	}
}

// A stream is spooled inside dest's work directory, not beside dest, and
// the spool is gone afterwards, on success and on failure.
func TestExtractSpoolInsideDest(t *testing.T) {
	entries := []testEntry{dir("./etc"), reg("./etc/x.conf", "package")}
	good := digested(t, cpioBytes(entries, true))
	broken := digested(t, cpioBytes(append(entries, symlink("./etc/out", "/etc/passwd")), true))
	for _, raw := range [][]byte{good, broken} {
		parent := t.TempDir()
		dest := filepath.Join(parent, "dest")
		var beside []string
		_, err := Extract(context.Background(), onlyReader{bytes.NewReader(raw)}, dest, &ExtractOptions{Progress: klpkit.On(func(ExtractEvent) {
			entries, _ := os.ReadDir(parent)
			for _, e := range entries {
				beside = append(beside, e.Name())
			}
		})})
		require.NotEmpty(t, beside)
		for _, name := range beside {
			assert.Equal(t, "dest", name, "nothing but dest in its parent while extracting")
		}
		assert.Empty(t, leftovers(t, parent))
		if err != nil {
			_, serr := os.Stat(dest)
			assert.ErrorIs(t, serr, os.ErrNotExist, "a dest the failed extraction created is gone")
		}
	}
}

// Once every entry is written, failing to remove a backup does not fail
// the extraction nor leave it half done: dest holds the package and no
// backup.
func TestExtractCommitCannotLeaveAMix(t *testing.T) {
	raw := digested(t, cpioBytes([]testEntry{dir("./etc"), reg("./etc/x.conf", "package"), reg("./etc/y", "y")}, true))
	dest := filepath.Join(t.TempDir(), "dest")
	require.NoError(t, os.MkdirAll(filepath.Join(dest, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dest, "etc/x.conf"), []byte("mine"), 0o600))
	_, err := Extract(context.Background(), bytes.NewReader(raw), dest, &ExtractOptions{Progress: klpkit.On(func(e ExtractEvent) {
		if e.Name != "etc/y" {
			return
		}
		// Make the backup of x.conf something a plain remove refuses.
		backups, _ := filepath.Glob(filepath.Join(dest, "etc", ".rpmpkg-old-*"))
		for _, b := range backups {
			require.NoError(t, os.Remove(b))
			require.NoError(t, os.MkdirAll(filepath.Join(b, "d"), 0o755))
		}
	})})
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dest, "etc/x.conf"))
	require.NoError(t, err)
	assert.Equal(t, "package", string(got))
	assert.Empty(t, leftovers(t, dest))
}

// Extractions into one dest take turns: one never rolls back another
// that is still running as if it had been killed.
func TestExtractConcurrentIntoOneDest(t *testing.T) {
	var entries []testEntry
	entries = append(entries, dir("./d"))
	for i := range 50 {
		entries = append(entries, reg(fmt.Sprintf("./d/f%d", i), strings.Repeat("x", 1000)))
	}
	raw := digested(t, cpioBytes(entries, true))
	dest := filepath.Join(t.TempDir(), "dest")
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := Extract(context.Background(), onlyReader{bytes.NewReader(raw)}, dest, nil)
			errs <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
	got, err := os.ReadDir(filepath.Join(dest, "d"))
	require.NoError(t, err)
	assert.Len(t, got, 50)
	assert.Empty(t, leftovers(t, dest))
}
