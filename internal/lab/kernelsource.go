// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/procgroup"
)

// ErrNoRemoteSource: FetchSource serves the generations whose packages
// come from Debian's archive through build/toolchain (5.10); the host's
// apt fetches the others.
var ErrNoRemoteSource = errors.New("lab: the generation's source comes from the host's apt")

// FetchSource downloads the lab kernel's linux-source-X.Y package at its
// Debian version (l.Version) from the generation's signed indexes, checked
// against their size and SHA-256, and extracts its tarball into dir. It
// returns the tarball's path. Other labs (Photon's) build their own kernels
// from it.
func FetchSource(ctx context.Context, l *Lab, dir string, log *slog.Logger) (string, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if l.Generation != Bullseye510 {
		return "", fmt.Errorf("%w: %s lab in %s", ErrNoRemoteSource, l.Generation, l.Dir)
	}
	b := newBullseye(l.Dir, log)
	if err := b.loadIndex(ctx); err != nil {
		return "", err
	}
	k := Kernel{Release: l.KernelRelease, Version: l.Version}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	deb, err := b.download(ctx, k.sourcePackage(), k.Version, dir)
	if err != nil {
		return "", err
	}
	defer os.Remove(deb)
	tarball := filepath.Join(dir, k.sourcePackage()+".tar.xz")
	r := &runner{log: log, env: []string{"LC_ALL=C"}}
	if err := extractDeb(ctx, r, deb, map[string]string{"usr/src/" + k.sourcePackage() + ".tar.xz": tarball}); err != nil {
		return "", err
	}
	return tarball, nil
}

// loadIndex reads the suites' signed package indexes (cached).
func (b *bullseye) loadIndex(ctx context.Context) error {
	keys, err := os.ReadFile(b.keyring)
	if err != nil {
		return fmt.Errorf("archive keys (debian-archive-keyring): %w", err)
	}
	ring, err := toolchain.ReadKeyring(keys)
	if err != nil {
		return fmt.Errorf("archive keys %s: %w", b.keyring, err)
	}
	d := &toolchain.Debian{Suites: b.suites, Keyring: ring, IndexCache: filepath.Join(b.cache, "index")}
	b.idx, err = d.Index(ctx)
	return err
}

// CompilerMake runs make in dir with the lab kernel's compiler as CC and
// HOSTCC, and args, for another kernel built with that compiler (no
// KERNELRELEASE, unlike Make): inside the lab's toolchain root when it has
// one, with dir and binds bound in at their own paths; on the host
// otherwise. The output goes to out (nil: discarded) and its tail is in the
// error when make fails.
func (l *Lab) CompilerMake(ctx context.Context, dir string, binds []string, out io.Writer, args ...string) error {
	cc := l.Compiler
	if cc == "" {
		cc = "gcc-12"
	}
	args = append([]string{"CC=" + cc, "HOSTCC=" + cc}, args...)
	var tail bytes.Buffer
	w := io.Writer(&tailWriter{buf: &tail, max: 16 << 10})
	if out != nil {
		w = io.MultiWriter(w, out)
	}
	root := l.Root()
	if root == nil {
		cmd := (&runner{env: []string{"LC_ALL=C"}}).command(ctx, dir, "make", args...)
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Run(); err != nil {
			return commandError(cmd, err, tail.String())
		}
		return nil
	}
	cmd, err := root.Command(ctx, "make", args...)
	if err != nil {
		return err
	}
	cmd.Dir = dir
	procgroup.StopOnCancel(cmd, 5*time.Second)
	cmd.Stdout, cmd.Stderr = w, w
	if err := root.Start(cmd, append([]string{dir}, binds...)); err != nil {
		return err
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("in toolchain root %s: %w", root.Dir, commandError(cmd, err, tail.String()))
	}
	return nil
}

// tailWriter keeps about the last max bytes written to buf.
type tailWriter struct {
	buf *bytes.Buffer
	max int
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.buf.Write(p)
	if t.buf.Len() > 2*t.max {
		keep := append([]byte(nil), t.buf.Bytes()[t.buf.Len()-t.max:]...)
		if i := bytes.IndexByte(keep, '\n'); i >= 0 {
			keep = keep[i+1:]
		}
		t.buf.Reset()
		t.buf.Write(keep)
	}
	return len(p), nil
}
