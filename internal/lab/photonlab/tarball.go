// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// ErrBadTarball marks a source tarball that is not a kernel tree in the
// expected layout.
var ErrBadTarball = errors.New("photonlab: bad source tarball")

// repackTarball rewrites the kernel source tarball src, whose entries all
// live under fromTop/ (Debian's "linux-source-6.1/"), as dst, an xz tarball
// whose entries live under toTop/ (Photon's "linux-6.1.192/"). Contents,
// modes and times are kept. It returns the kernel version in the tree's
// Makefile. xz does the (de)compression, with jobs threads.
func repackTarball(ctx context.Context, src, dst, fromTop, toTop string, jobs int) (version string, err error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp*")
	if err != nil {
		return "", err
	}
	defer func() {
		tmp.Close()
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	decomp := exec.CommandContext(ctx, "xz", "-dc")
	decomp.Stdin = in
	var decompErr bytes.Buffer
	decomp.Stderr = &decompErr
	plain, err := decomp.StdoutPipe()
	if err != nil {
		return "", err
	}
	// Preset 1, not xz's default 6 or the 3 used before: compressing
	// Debian's 1.3 GB tree is most of the lab's source step, and -1 takes a
	// fifth of -3's CPU time (11 s against 56 s on 150 MB of it) for a
	// tarball 10% bigger (178 MB against 162 MB). The step's digest does
	// not name the preset: it changes the file's size, not the tree.
	comp := exec.CommandContext(ctx, "xz", "-c", "-1", fmt.Sprintf("-T%d", max(jobs, 1)))
	comp.Stdout = tmp
	var compErr bytes.Buffer
	comp.Stderr = &compErr
	packed, err := comp.StdinPipe()
	if err != nil {
		return "", err
	}
	if err := decomp.Start(); err != nil {
		return "", fmt.Errorf("xz -dc %s: %w", src, err)
	}
	if err := comp.Start(); err != nil {
		cancel()
		decomp.Wait()
		return "", fmt.Errorf("xz: %w", err)
	}
	version, copyErr := retopTar(plain, packed, fromTop, toTop)
	if copyErr != nil {
		cancel() // stop both ends before waiting
	}
	io.Copy(io.Discard, plain)
	closeErr := packed.Close()
	decompWait := decomp.Wait()
	compWait := comp.Wait()
	switch {
	case copyErr != nil:
		return "", fmt.Errorf("%s: %w", src, copyErr)
	case decompWait != nil:
		return "", fmt.Errorf("xz -dc %s: %w: %s", src, decompWait, decompErr.String())
	case closeErr != nil || compWait != nil:
		return "", fmt.Errorf("xz (writing %s): %w: %s", dst, errors.Join(closeErr, compWait), compErr.String())
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", err
	}
	return version, nil
}

// retopTar copies a tar stream, moving every entry from fromTop/ to toTop/,
// and returns the version of the top-level Makefile.
func retopTar(r io.Reader, w io.Writer, fromTop, toTop string) (string, error) {
	tr := tar.NewReader(r)
	tw := tar.NewWriter(w)
	version := ""
	entries := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrBadTarball, err)
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			if err := tw.WriteHeader(hdr); err != nil {
				return "", err
			}
			continue
		}
		name, ok := moveTop(hdr.Name, fromTop, toTop)
		if !ok {
			return "", fmt.Errorf("%w: entry %q is outside %s/", ErrBadTarball, hdr.Name, fromTop)
		}
		hdr.Name = name
		if hdr.Typeflag == tar.TypeLink {
			if hdr.Linkname, ok = moveTop(hdr.Linkname, fromTop, toTop); !ok {
				return "", fmt.Errorf("%w: hard link %q points outside %s/", ErrBadTarball, name, fromTop)
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return "", fmt.Errorf("%w: entry %q: %w", ErrBadTarball, name, err)
		}
		if name == toTop+"/Makefile" {
			data, err := io.ReadAll(tr)
			if err != nil {
				return "", fmt.Errorf("%w: %w", ErrBadTarball, err)
			}
			if version, err = makefileVersion(data); err != nil {
				return "", err
			}
			if _, err := tw.Write(data); err != nil {
				return "", err
			}
		} else if _, err := io.Copy(tw, tr); err != nil {
			return "", fmt.Errorf("%w: entry %q: %w", ErrBadTarball, name, err)
		}
		entries++
	}
	if version == "" {
		return "", fmt.Errorf("%w: no %s/Makefile among its %d entries", ErrBadTarball, fromTop, entries)
	}
	return version, tw.Close()
}

// moveTop replaces the top directory of an archive path.
func moveTop(name, fromTop, toTop string) (string, bool) {
	name = strings.TrimPrefix(name, "./")
	if name == fromTop || name == fromTop+"/" {
		return toTop + "/", true
	}
	rest, ok := strings.CutPrefix(name, fromTop+"/")
	if !ok || rest == "" {
		return "", false
	}
	return toTop + "/" + rest, true
}

var makefileVar = regexp.MustCompile(`(?m)^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)[ \t]*=[ \t]*(\S*)[ \t]*$`)

// makefileVersion reads VERSION.PATCHLEVEL.SUBLEVEL[EXTRAVERSION] from a
// kernel's top-level Makefile.
func makefileVersion(data []byte) (string, error) {
	vars := map[string]string{}
	for _, m := range makefileVar.FindAllSubmatch(data, -1) {
		if _, seen := vars[string(m[1])]; !seen {
			vars[string(m[1])] = string(m[2])
		}
	}
	for _, v := range []string{"VERSION", "PATCHLEVEL", "SUBLEVEL"} {
		if vars[v] == "" {
			return "", fmt.Errorf("%w: the top-level Makefile sets no %s", ErrBadTarball, v)
		}
	}
	return vars["VERSION"] + "." + vars["PATCHLEVEL"] + "." + vars["SUBLEVEL"] + vars["EXTRAVERSION"], nil
}
