package photon

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/cavaliergopher/cpio"
	"github.com/cavaliergopher/rpm"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// ErrBadRPM is returned for an RPM file that cannot be read.
var ErrBadRPM = errors.New("photon: bad RPM")

// extractRPM unpacks the regular files of an RPM payload that filter keeps
// (all when nil) into dest.
//
// Interim private helper until rpmpkg.Extract lands (same contract: filter
// sees the cleaned relative payload path); then this becomes a thin call.
func extractRPM(ctx context.Context, file, dest string, filter func(string) bool) (err error) {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", ErrBadRPM, file, r)
		}
	}()
	br := bufio.NewReaderSize(f, 1<<20)
	pkg, err := rpm.Read(br)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadRPM, filepath.Base(file), err)
	}
	if pkg.PayloadFormat() != "cpio" {
		return fmt.Errorf("%w: %s: payload format %q", ErrBadRPM, filepath.Base(file), pkg.PayloadFormat())
	}
	var payload io.Reader
	switch c := pkg.PayloadCompression(); c {
	case "gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("%w: %s: payload: %w", ErrBadRPM, filepath.Base(file), err)
		}
		payload = zr
	case "xz":
		zr, err := xz.NewReader(br)
		if err != nil {
			return fmt.Errorf("%w: %s: payload: %w", ErrBadRPM, filepath.Base(file), err)
		}
		payload = zr
	case "lzma":
		zr, err := lzma.NewReader(br)
		if err != nil {
			return fmt.Errorf("%w: %s: payload: %w", ErrBadRPM, filepath.Base(file), err)
		}
		payload = zr
	case "zstd":
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return fmt.Errorf("%w: %s: payload: %w", ErrBadRPM, filepath.Base(file), err)
		}
		defer zr.Close()
		payload = zr
	case "", "none":
		payload = br
	default:
		return fmt.Errorf("%w: %s: payload compression %q", ErrBadRPM, filepath.Base(file), c)
	}
	cr := cpio.NewReader(payload)
	dest = filepath.Clean(dest)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := cr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %s: payload: %w", ErrBadRPM, filepath.Base(file), err)
		}
		name := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(h.Name, ".")), "/")
		if !h.Mode.IsRegular() || (filter != nil && !filter(name)) {
			continue
		}
		target, err := safeJoin(dest, filepath.FromSlash(name))
		if err != nil {
			return err
		}
		if err := noSymlinkParents(dest, target); err != nil {
			return err
		}
		if err := writeEntry(cr, target, 0o644, h.Size); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrBadRPM, filepath.Base(file), err)
		}
	}
}
