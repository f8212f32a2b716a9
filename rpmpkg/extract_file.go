// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// file writes a regular entry through a temporary name and renames it.
func (x *extractor) file(hdr *cpioHeader, rel string, data io.Reader) error {
	if err := x.parents(hdr.Name, rel); err != nil {
		return err
	}
	if err := x.writeFile(hdr, rel, data); err != nil {
		return err
	}
	x.add(ExtractedFile{Name: rel, Path: x.path(rel), Type: TypeFile, Mode: fs.FileMode(hdr.Mode & 0o777), Size: hdr.Size})
	return nil
}

func (x *extractor) writeFile(hdr *cpioHeader, rel string, data io.Reader) error {
	tmp := tempName(path.Dir(rel))
	if err := x.intend(jTemp, tmp); err != nil {
		return &EntryError{Entry: hdr.Name, Err: err}
	}
	f, err := x.root.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return &EntryError{Entry: hdr.Name, Err: err}
	}
	fail := func(err error) error {
		_ = f.Close()
		_ = x.root.Remove(tmp)
		return err
	}
	// The file keeps its inode through the rename: the journal names it.
	fi, err := f.Stat()
	if err != nil {
		return fail(&EntryError{Entry: hdr.Name, Err: err})
	}
	var sum hash.Hash
	want, check := x.meta[rel]
	if check && want.digest != "" {
		if sum, err = newFileHash(want.algo); err != nil {
			return fail(entryErr(hdr.Name, ErrUnsupported, "%v", err))
		}
	}
	w := &recordingWriter{w: f}
	if sum != nil {
		w.w = io.MultiWriter(f, sum)
	}
	n, err := copyCtx(x.ctx, w, io.LimitReader(data, hdr.Size), hdr.Size)
	if err != nil {
		// Only a failure reading the payload means the package is bad; a
		// cancelled ctx or a full disk is not the package's fault.
		if w.err == nil && x.ctx.Err() == nil {
			err = fmt.Errorf("%w: %w", ErrMalformed, noEOF(err))
		}
		return fail(&EntryError{Entry: hdr.Name, Err: err})
	}
	if n != hdr.Size {
		return fail(entryErr(hdr.Name, ErrMalformed, "truncated: %d of %d bytes", n, hdr.Size))
	}
	if sum != nil {
		if got := hex.EncodeToString(sum.Sum(nil)); !strings.EqualFold(got, want.digest) {
			return fail(entryErr(hdr.Name, ErrDigestMismatch, "content %s %s, header says %s", want.algo, got, want.digest))
		}
	}
	if err := f.Chmod(fs.FileMode(hdr.Mode & 0o777)); err != nil {
		return fail(&EntryError{Entry: hdr.Name, Err: err})
	}
	if err := f.Close(); err != nil {
		_ = x.root.Remove(tmp)
		return &EntryError{Entry: hdr.Name, Err: err}
	}
	mt := x.mtime(rel, hdr.MTime)
	if err := x.root.Chtimes(tmp, mt, mt); err != nil {
		_ = x.root.Remove(tmp)
		return &EntryError{Entry: hdr.Name, Err: err}
	}
	if err := x.clearFor(hdr.Name, rel); err != nil {
		_ = x.root.Remove(tmp)
		return err
	}
	x.rememberParents(rel)
	if err := x.intend(jCreated, append([]string{rel}, idOf(fi).fields()...)...); err != nil {
		_ = x.root.Remove(tmp)
		return &EntryError{Entry: hdr.Name, Err: err}
	}
	if err := x.renameNoReplace(tmp, rel); err != nil {
		_ = x.root.Remove(tmp)
		return &EntryError{Entry: hdr.Name, Err: err}
	}
	x.markCreated(rel)
	return nil
}

// recordingWriter keeps the first write error, to tell it from a read error.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

func newFileHash(algo string) (hash.Hash, error) {
	if algo == "md5" {
		return md5.New(), nil
	}
	return newHash(algo)
}

// hardlink handles a member of a hard-link set. rpm stores the data once,
// with the last member; earlier members have size 0 and wait. The data
// goes to the first selected member, and the other selected members are
// linked to it.
func (x *extractor) hardlink(hdr *cpioHeader, rel string, data io.Reader, selected bool) error {
	key := linkKey{hdr.DevMajor, hdr.DevMinor, hdr.Inode}
	g := x.links[key]
	if g == nil {
		g = &linkGroup{}
		x.links[key] = g
	}
	if selected {
		if err := x.parents(hdr.Name, rel); err != nil {
			return err
		}
	}
	switch {
	case g.written != "":
		if selected {
			return x.link(hdr.Name, g.written, rel, hdr)
		}
		return nil
	case hdr.Size == 0:
		if selected {
			g.pending = append(g.pending, pendingLink{rel, *hdr})
		}
		return nil
	}
	members := g.pending
	if selected {
		members = append([]pendingLink{{rel, *hdr}}, members...)
	}
	if len(members) == 0 {
		return nil // nobody wants this data
	}
	first := members[0]
	withData := *hdr
	withData.Name = first.hdr.Name
	if err := x.writeFile(&withData, first.rel, data); err != nil {
		return err
	}
	g.written, g.pending = first.rel, nil
	x.add(ExtractedFile{Name: first.rel, Path: x.path(first.rel), Type: TypeFile, Mode: fs.FileMode(hdr.Mode & 0o777), Size: hdr.Size})
	for _, m := range members[1:] {
		if err := x.link(m.hdr.Name, first.rel, m.rel, hdr); err != nil {
			return err
		}
	}
	return nil
}

func (x *extractor) link(entry, target, rel string, hdr *cpioHeader) error {
	// A later entry may have replaced the data's file with a symlink; a
	// hard link to that symlink would carry its relative target into
	// another directory, where it may point out of dest.
	fi, err := x.root.Lstat(target)
	if err != nil || !fi.Mode().IsRegular() {
		return entryErr(entry, ErrUnsafePath, "hard link target %q is no longer a regular file", target)
	}
	if err := x.clearFor(entry, rel); err != nil {
		return err
	}
	x.rememberParents(rel)
	if err := x.intend(jCreated, append([]string{rel}, idOf(fi).fields()...)...); err != nil {
		return &EntryError{Entry: entry, Err: err}
	}
	if err := x.root.Link(target, rel); err != nil {
		return &EntryError{Entry: entry, Err: err}
	}
	x.markCreated(rel)
	x.add(ExtractedFile{Name: rel, Path: x.path(rel), Type: TypeHardlink, Mode: fs.FileMode(hdr.Mode & 0o777), Size: hdr.Size, LinkTarget: target})
	return nil
}

// flushLinks writes hard-link sets whose data never came (every member
// empty) as empty files.
func (x *extractor) flushLinks() error {
	for _, g := range x.links {
		if len(g.pending) == 0 {
			continue
		}
		first := g.pending[0]
		if err := x.writeFile(&first.hdr, first.rel, strings.NewReader("")); err != nil {
			return err
		}
		x.add(ExtractedFile{Name: first.rel, Path: x.path(first.rel), Type: TypeFile, Mode: fs.FileMode(first.hdr.Mode & 0o777)})
		for _, m := range g.pending[1:] {
			if err := x.link(m.hdr.Name, first.rel, m.rel, &m.hdr); err != nil {
				return err
			}
		}
		g.pending = nil
	}
	return nil
}
