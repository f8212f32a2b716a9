// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/beneath"
	"github.com/klpkit/klpkit/internal/decompress"
	"github.com/klpkit/klpkit/internal/xzguard"
)

// ErrUnsafeArchive is returned for a tarball entry that would land outside
// the directory it is unpacked into.
var ErrUnsafeArchive = errors.New("photon: unsafe path in archive")

// maxTarballSize bounds the unpacked size of one source tarball (a kernel
// tree is about 1.3 GB).
const maxTarballSize = 16 << 30

// unpackTarball unpacks a .tar, .tar.gz/.tgz, .tar.xz or .tar.bz2 file into
// dir. xzCmd, when set, is an external xz used to decompress .tar.xz (about
// ten times faster than the pure-Go decoder on a kernel tarball); the
// archive itself is always read, checked and written by untar.
func unpackTarball(ctx context.Context, file, dir, xzCmd string) error {
	return unpackFrom(ctx, filepath.Dir(file), filepath.Base(file), dir, xzCmd, nil)
}

// unpackFrom unpacks the tarball root/rel, opened without following links
// out of root (a source RPM's directory). An external xz runs as as (nil:
// this process).
func unpackFrom(ctx context.Context, root, rel, dir, xzCmd string, as *asuser.User) error {
	name := filepath.Base(rel)
	isXZ := strings.HasSuffix(name, ".tar.xz") || strings.HasSuffix(name, ".txz")
	if isXZ && xzCmd != "" {
		return unpackWithCommand(ctx, root, rel, dir, xzCmd, as)
	}
	f, err := beneath.Open(root, rel)
	if err != nil {
		return err
	}
	defer f.Close()
	format := decompress.None
	switch {
	case isXZ:
		format = decompress.XZ
	case strings.HasSuffix(name, ".tar.gz") || strings.HasSuffix(name, ".tgz"):
		format = decompress.Gzip
	case strings.HasSuffix(name, ".tar.bz2"):
		format = decompress.Bzip2
	case strings.HasSuffix(name, ".tar"):
	default:
		return fmt.Errorf("%s: not a tarball this interpreter unpacks (.tar, .tar.gz, .tar.xz, .tar.bz2)", name)
	}
	r, err := decompress.NewReader(format, bufio.NewReaderSize(f, 1<<20), &decompress.Limits{MaxSize: maxTarballSize, TooLarge: func() error {
		return fmt.Errorf("unpacked size exceeds %d bytes", int64(maxTarballSize))
	}})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer r.Close()
	if err := untar(ctx, r, dir); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// unpackWithCommand runs "xzCmd -dc" on root/rel and untars its output. The
// file reaches xz through xzguard, which bounds xz's dictionary too. xz
// runs as as, in /: it decompresses a package's data and needs no file.
func unpackWithCommand(ctx context.Context, root, rel, dir, xzCmd string, as *asuser.User) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	file := filepath.Join(root, rel)
	f, err := beneath.Open(root, rel)
	if err != nil {
		return err
	}
	defer f.Close()
	guarded := &guardedInput{r: xzguard.NewGuard(f, nil)}
	cmd := exec.CommandContext(ctx, xzCmd, "-dc")
	cmd.Stdin = guarded
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	done, err := asuser.Setup(cmd, as, "/")
	if err != nil {
		return err
	}
	err = cmd.Start()
	done()
	if err != nil {
		return fmt.Errorf("%s: starting %s as %s: %w", filepath.Base(file), xzCmd, as, err)
	}
	untarErr := untar(ctx, bufio.NewReaderSize(out, 1<<20), dir)
	if untarErr != nil {
		cancel() // stop xz; its exit status no longer matters
	}
	_, _ = io.Copy(io.Discard, out)
	waitErr := cmd.Wait()
	switch {
	case guarded.err != nil: // the cause of whatever xz and untar saw; Wait ordered the write
		return fmt.Errorf("%s: %w", filepath.Base(file), guarded.err)
	case untarErr != nil:
		return fmt.Errorf("%s: %w", filepath.Base(file), untarErr)
	case waitErr != nil:
		return fmt.Errorf("%s: %s -dc failed: %w: %s", filepath.Base(file), xzCmd, waitErr, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// guardedInput remembers the guard's error, which xz only sees as an
// early end of its input.
type guardedInput struct {
	r   io.Reader
	err error
}

func (g *guardedInput) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		g.err = err
	}
	return n, err
}

func untar(ctx context.Context, r io.Reader, dir string) error {
	dir = filepath.Clean(dir)
	tr := tar.NewReader(r)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		target, err := safeJoin(dir, h.Name)
		if err != nil {
			return err
		}
		if err := noSymlinkParents(dir, target); err != nil {
			return err
		}
		mode := os.FileMode(h.Mode).Perm() | 0o200
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, mode|0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			total += h.Size
			if h.Size < 0 || total > maxTarballSize {
				return fmt.Errorf("unpacked size exceeds %d bytes", int64(maxTarballSize))
			}
			if err := removeNonDir(dir, target); err != nil {
				return err
			}
			if err := writeEntry(tr, target, mode, h.Size); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if filepath.IsAbs(h.Linkname) {
				return fmt.Errorf("%w: symlink %s points to absolute %s", ErrUnsafeArchive, h.Name, h.Linkname)
			}
			if _, err := safeJoin(dir, filepath.Join(filepath.Dir(relTo(dir, target)), h.Linkname)); err != nil {
				return fmt.Errorf("%w: symlink %s -> %s leaves the tree", ErrUnsafeArchive, h.Name, h.Linkname)
			}
			if err := noDotDotAfterSymlink(dir, filepath.Dir(target), h.Linkname); err != nil {
				return fmt.Errorf("%w: symlink %s -> %s: %w", ErrUnsafeArchive, h.Name, h.Linkname, err)
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := removeNonDir(dir, target); err != nil {
				return err
			}
			if err := os.Symlink(h.Linkname, target); err != nil {
				return err
			}
		case tar.TypeLink:
			src, err := safeJoin(dir, h.Linkname)
			if err != nil {
				return err
			}
			if err := noSymlinkParents(dir, src); err != nil {
				return err
			}
			// A hard link to a symlink copies its relative target to a new
			// directory, where it may point elsewhere (out of the tree).
			if fi, err := os.Lstat(src); err == nil && fi.Mode()&os.ModeSymlink != 0 {
				return fmt.Errorf("%w: hard link %s to symlink %s", ErrUnsafeArchive, h.Name, h.Linkname)
			}
			if err := removeNonDir(dir, target); err != nil {
				return err
			}
			if err := os.Link(src, target); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: entry %s has unsupported type %q", ErrUnsafeArchive, h.Name, h.Typeflag)
		}
	}
}

func relTo(root, p string) string {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return rel
}

// safeJoin joins an archive name to root, refusing absolute names and "..".
func safeJoin(root, name string) (string, error) {
	if name == "" || filepath.IsAbs(name) || strings.HasPrefix(name, "/") || strings.ContainsRune(name, 0) {
		return "", fmt.Errorf("%w: %q", ErrUnsafeArchive, name)
	}
	p := filepath.Join(root, name)
	if p != root && !strings.HasPrefix(p, root+string(filepath.Separator)) {
		return "", fmt.Errorf("%w: %q leaves the directory", ErrUnsafeArchive, name)
	}
	return p, nil
}

// noSymlinkParents refuses to write through a symlink the archive created.
func noSymlinkParents(root, target string) error {
	rel := relTo(root, filepath.Dir(target))
	if rel == "." {
		return nil
	}
	cur := root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return fmt.Errorf("%w: %s goes through symlink %s", ErrUnsafeArchive, relTo(root, target), relTo(root, cur))
		}
	}
	return nil
}

// writeEntry creates target (which removeNonDir cleared) with size bytes of r.
func writeEntry(r io.Reader, target string, mode os.FileMode, size int64) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != size {
		err = fmt.Errorf("%s: truncated entry", target)
	}
	return err
}

// removeNonDir clears the way for an entry at target: an earlier file or
// link is removed (never written through), but a directory is refused.
// Replacing an empty directory with a link would change what symlinks
// already checked by noDotDotAfterSymlink resolve to.
func removeNonDir(root, target string) error {
	fi, err := os.Lstat(target)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("%w: %s replaces a directory", ErrUnsafeArchive, relTo(root, target))
	}
	return os.Remove(target)
}

// noDotDotAfterSymlink walks a symlink's target from the link's directory
// and refuses a ".." that follows a component which is not a real
// directory: the kernel resolves "l/.." from where l points, not
// lexically, so a chain such as "d/l -> .." and "d/m -> l/.." would climb
// out of the tree although each target looks inside it (rpmpkg's
// extraction applies the same rule).
func noDotDotAfterSymlink(root, linkDir, linkname string) error {
	cur := linkDir
	viaSymlink := ""
	for _, part := range strings.Split(filepath.ToSlash(linkname), "/") {
		switch part {
		case "", ".":
			continue
		case "..":
			if viaSymlink != "" {
				return fmt.Errorf("\"..\" after %s, a symlink or a path not yet unpacked", viaSymlink)
			}
			cur = filepath.Dir(cur)
			continue
		}
		cur = filepath.Join(cur, part)
		if viaSymlink != "" {
			continue
		}
		// A component that does not exist yet, or is a file, may still
		// become a symlink (removeNonDir replaces files); only real
		// directories, which are never replaced, keep ".." lexical.
		if fi, err := os.Lstat(cur); err != nil || !fi.IsDir() {
			viaSymlink = relTo(root, cur)
		}
	}
	return nil
}
