// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/klpkit/klpkit"
)

// Default extraction bounds. cpio entries cannot exceed 4 GiB anyway; a
// debuginfo vmlinux is about 1 GB.
const (
	DefaultMaxFileSize  = 4 << 30
	DefaultMaxTotalSize = 32 << 30
	maxEntries          = 1 << 20
)

// ExtractOptions configure Extract; nil = extract everything with the
// default bounds.
type ExtractOptions struct {
	// Filter selects entries by their cleaned payload path, relative,
	// without "./" or "/" (e.g. "usr/lib/debug/lib/modules/6.1.0-1.ph5/
	// vmlinux-6.1.0-1.ph5"). nil = all. Parent directories of a selected
	// entry are created whether or not they are selected.
	Filter func(name string) bool
	// MaxFileSize bounds one entry; MaxTotalSize bounds the uncompressed
	// payload read, written or skipped. 0 = the defaults above.
	MaxFileSize, MaxTotalSize int64
	// Progress, when set, is called after each written entry, in order
	// and never concurrently, on Extract's goroutine. The reports' Detail
	// is an ExtractEvent.
	Progress klpkit.ProgressFunc
	// SkipEscapingSymlinks lists symlinks whose target is absolute or
	// leaves dest in ExtractResult.Skipped instead of failing (some
	// debuginfo packages carry absolute links). They are never created.
	SkipEscapingSymlinks bool
}

// ExtractEvent reports one written entry.
type ExtractEvent struct {
	Name    string `json:"name"`    // cleaned payload path
	Size    int64  `json:"size"`    // bytes of this entry
	Files   int    `json:"files"`   // entries written so far
	Written int64  `json:"written"` // bytes written so far
}

// EntryType is the kind of an extracted entry.
type EntryType int

// Entry kinds.
const (
	TypeFile EntryType = iota
	TypeDir
	TypeSymlink
	TypeHardlink
)

func (t EntryType) String() string {
	names := [...]string{"file", "dir", "symlink", "hardlink"}
	if t < 0 || int(t) >= len(names) {
		return fmt.Sprintf("EntryType(%d)", int(t))
	}
	return names[t]
}

// ExtractedFile is one entry Extract wrote.
type ExtractedFile struct {
	Name       string      `json:"name"` // cleaned payload path, relative
	Path       string      `json:"path"` // the path written, inside dest
	Type       EntryType   `json:"type"`
	Mode       fs.FileMode `json:"mode"`
	Size       int64       `json:"size"`
	LinkTarget string      `json:"link_target"` // symlink target, or the hard link's first name
}

// ExtractResult lists what Extract wrote.
type ExtractResult struct {
	Info    *Info           `json:"info"`
	Files   []ExtractedFile `json:"files"`
	Written int64           `json:"written"` // bytes of regular files written
	// Skipped lists selected entries not extracted: devices, fifos,
	// sockets, and escaping symlinks with SkipEscapingSymlinks.
	Skipped []string `json:"skipped"`
}

// Extract writes the payload of the RPM read from r into dest (created if
// missing). It verifies the header digest, each regular file's digest
// against the header, and the payload digest. dest stands for the package
// root: "/usr/x" and "./usr/x" (how rpmpack and rpmbuild store names) both
// land in dest/usr/x. Entries that would land outside dest are refused with
// ErrUnsafePath: names with "..", symlinks whose target is absolute or
// climbs out of dest, and entries whose parent is a symlink or a file.
// Devices, fifos and sockets are listed in Skipped, not created. Modes keep
// the permission bits only; owners are not changed; mtimes come from the
// header. Symlinks are judged by how the kernel resolves them, chains
// included (see resolvesInside). The payload digest is checked before
// anything is written (seekable inputs are read twice, streams are spooled
// in dest's work directory). Files are written to a temporary name and
// renamed; on any error dest is left as it was: what Extract created is
// removed, files it replaced come back, directory modes and times are
// restored, a dest it created goes with the parents it created; the error
// is an *EntryError naming the entry where there is one. An extraction
// killed half way is rolled back by the next one into the same dest (see
// extract_journal.go); the directories it created above dest stay.
func Extract(ctx context.Context, r io.Reader, dest string, opts *ExtractOptions) (*ExtractResult, error) {
	var o ExtractOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.MaxTotalSize <= 0 {
		o.MaxTotalSize = DefaultMaxTotalSize
	}
	info, h, err := readVerified(r)
	if err != nil {
		return nil, err
	}
	if f := info.PayloadFormat; f != "cpio" && f != "" {
		return nil, fmt.Errorf("package %s: %w: payload format %q", info.Name, ErrUnsupported, f)
	}
	// One extraction into dest at a time: the next one's recovery must
	// never take a live extraction's work for a killed one's. The lock
	// comes before creating dest and its parents, so that a failed
	// extraction removes exactly the directories it created.
	unlock, created, err := lockDest(ctx, dest)
	if err != nil {
		return nil, fmt.Errorf("extract %s: %w", info.Name, err)
	}
	defer unlock()
	root, err := os.OpenRoot(dest)
	if err != nil {
		return nil, fmt.Errorf("extract %s: %w", info.Name, err)
	}
	defer root.Close()
	if err := recoverKilled(root); err != nil {
		return nil, fmt.Errorf("extract %s: %s: %w", info.Name, dest, err)
	}

	x := &extractor{
		ctx: ctx, root: root, dest: dest, opts: &o, meta: headerFiles(h, info),
		result:      &ExtractResult{Info: info},
		dirs:        map[string]bool{".": true},
		links:       map[linkKey]*linkGroup{},
		createdDirs: created,
	}
	if err := x.begin(); err != nil {
		return nil, x.fail(info.Name, err)
	}
	r, cleanup, err := verifyPayloadFirst(ctx, r, filepath.Join(dest, x.work), info, payloadSize(h), o.MaxTotalSize)
	if err != nil {
		return nil, x.abort(err)
	}
	defer cleanup()
	pv, err := newPayloadVerifier(r, info)
	if err != nil {
		return nil, x.abort(err)
	}
	dec, err := decompressor(info.PayloadCompressor, pv, o.MaxTotalSize)
	if err != nil {
		return nil, x.abort(fmt.Errorf("package %s: %w", info.Name, err))
	}
	defer dec.Close()
	if err := x.run(newCPIOReader(dec)); err != nil {
		return nil, x.fail(info.Name, err)
	}
	// Checked again: the input may have changed since the first pass.
	ok, err := pv.finish(ctx, o.MaxTotalSize) // bytes after the archive end
	if err != nil {
		return nil, x.fail(info.Name, err)
	}
	if err := x.commit(); err != nil {
		return nil, x.fail(info.Name, err)
	}
	info.Digests.PayloadVerified = ok
	return x.result, nil
}

// headerFiles maps cleaned names to what the header says about them: rpm
// installs with the header's mtimes and checks its digests (rpmpack, for
// one, leaves cpio mtimes at 0).
func headerFiles(h *rawHeaders, info *Info) map[string]fileMeta {
	algo := "md5" // rpm's default without FILEDIGESTALGO
	if t, ok := h.tags.int(tagFileDigestAlgo); ok {
		algo = hashName(int(t))
	}
	m := make(map[string]fileMeta, len(info.Files))
	for _, f := range info.Files {
		rel, ok := cleanEntryName(f.Name)
		if !ok {
			continue
		}
		meta := fileMeta{mtime: f.MTime}
		if f.Digest != "" && f.Mode.IsRegular() {
			meta.algo, meta.digest = algo, f.Digest
		}
		m[rel] = meta
	}
	return m
}

type fileMeta struct {
	algo, digest string
	mtime        time.Time
}

// mtime is the header's mtime for rel, else the cpio one.
func (x *extractor) mtime(rel string, cpioTime uint32) time.Time {
	if m, ok := x.meta[rel]; ok && !m.mtime.IsZero() {
		return m.mtime
	}
	return time.Unix(int64(cpioTime), 0)
}

// linkKey identifies the members of a hard-link set in a cpio archive.
type linkKey struct{ major, minor, inode uint32 }

// linkGroup tracks a hard-link set: rpm stores the data once, with the
// last member; earlier members have size 0.
type linkGroup struct {
	pending []pendingLink // selected members waiting for the data
	written string        // name the data went to
}

type pendingLink struct {
	rel string
	hdr cpioHeader
}

type extractor struct {
	ctx    context.Context
	root   *os.Root
	dest   string
	opts   *ExtractOptions
	meta   map[string]fileMeta
	result *ExtractResult

	dirs map[string]bool // known real directories (relative)
	j    journal         // what changed in dest, for undo
	work string          // the work directory in dest (extract_journal.go)
	jw   *os.File        // its journal
	jerr error           // the first failed journal write
	// createdDirs: dest and its parents that this extraction created,
	// outermost first; a failed extraction removes them.
	createdDirs []string
	links       map[linkKey]*linkGroup
	dirMeta     []ExtractedFile // directory mtimes are set last
	mtimes      map[string]time.Time
}

func (x *extractor) run(cr *cpioReader) error {
	x.mtimes = map[string]time.Time{}
	for n := 0; ; n++ {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		hdr, err := cr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if n >= maxEntries {
			return fmt.Errorf("%w: more than %d entries", ErrTooLarge, maxEntries)
		}
		if cr.src.n+hdr.Size > x.opts.MaxTotalSize {
			return entryErr(hdr.Name, ErrTooLarge, "payload exceeds %d bytes", x.opts.MaxTotalSize)
		}
		if err := x.entry(hdr, cr); err != nil {
			return err
		}
	}
	if err := x.flushLinks(); err != nil {
		return err
	}
	return x.finishDirs()
}

func (x *extractor) entry(hdr *cpioHeader, data io.Reader) error {
	rel, ok := cleanEntryName(hdr.Name)
	if !ok {
		return entryErr(hdr.Name, ErrUnsafePath, "name leaves the destination")
	}
	if rel == "." {
		return nil // the package root itself
	}
	if first, _, _ := strings.Cut(rel, "/"); strings.HasPrefix(first, workPrefix) {
		return entryErr(hdr.Name, ErrUnsafePath, "%s* names are kept for the extraction's own files", workPrefix)
	}
	selected := x.opts.Filter == nil || x.opts.Filter(rel)
	if hdr.Mode&cpioTypeMask == cpioReg && hdr.Size > x.opts.MaxFileSize {
		return entryErr(hdr.Name, ErrTooLarge, "%d bytes, limit %d", hdr.Size, x.opts.MaxFileSize)
	}
	if hdr.Mode&cpioTypeMask == cpioReg && hdr.Links > 1 {
		// Even unselected members matter: one of them may carry the data.
		return x.hardlink(hdr, rel, data, selected)
	}
	if !selected {
		return nil
	}
	perm := fs.FileMode(hdr.Mode & 0o777)
	switch hdr.Mode & cpioTypeMask {
	case cpioDir:
		if err := x.mkdirs(hdr.Name, rel); err != nil {
			return err
		}
		x.mtimes[rel] = x.mtime(rel, hdr.MTime)
		x.dirMeta = append(x.dirMeta, ExtractedFile{Name: rel, Path: x.path(rel), Type: TypeDir, Mode: perm | fs.ModeDir})
		return nil
	case cpioSymlink:
		return x.symlink(hdr, rel, data)
	case cpioReg:
		return x.file(hdr, rel, data)
	}
	x.result.Skipped = append(x.result.Skipped, rel)
	return nil
}

func (x *extractor) path(rel string) string { return filepath.Join(x.dest, filepath.FromSlash(rel)) }

// mkdirs makes rel and its parents as real directories, refusing to pass
// through a symlink or a file.
func (x *extractor) mkdirs(entry, rel string) error {
	for _, d := range append(parentDirs(rel), rel) {
		if x.dirs[d] {
			continue
		}
		fi, err := x.root.Lstat(d)
		switch {
		case err == nil && fi.Mode()&fs.ModeSymlink != 0:
			return entryErr(entry, ErrUnsafePath, "parent %q is a symlink", d)
		case err == nil && !fi.IsDir():
			return entryErr(entry, ErrUnsafePath, "parent %q is not a directory", d)
		case err == nil:
			x.rememberDir(d, fi) // entries are added to it
		case errors.Is(err, fs.ErrNotExist):
			x.rememberParents(d)
			if err := x.place(entry, d, func(tmp string) error { return x.root.Mkdir(tmp, 0o755) }); err != nil {
				return err
			}
		case err != nil:
			return &EntryError{Entry: entry, Err: err}
		}
		x.dirs[d] = true
	}
	return nil
}

func (x *extractor) parents(entry, rel string) error {
	if dir := path.Dir(rel); dir != "." {
		return x.mkdirs(entry, dir)
	}
	return nil
}

func (x *extractor) symlink(hdr *cpioHeader, rel string, data io.Reader) error {
	if hdr.Size > cpioMaxName {
		return entryErr(hdr.Name, ErrMalformed, "symlink target of %d bytes", hdr.Size)
	}
	b := make([]byte, hdr.Size)
	if _, err := io.ReadFull(data, b); err != nil {
		return entryErr(hdr.Name, ErrMalformed, "truncated symlink target: %v", err)
	}
	target := string(b)
	inside, err := x.resolvesInside(path.Dir(rel), target, 0)
	if err != nil {
		return &EntryError{Entry: hdr.Name, Err: err}
	}
	if !inside || !symlinkStaysInside(rel, target) {
		if x.opts.SkipEscapingSymlinks {
			x.result.Skipped = append(x.result.Skipped, rel)
			return nil
		}
		return entryErr(hdr.Name, ErrUnsafePath, "symlink target %q leaves the destination", target)
	}
	if err := x.parents(hdr.Name, rel); err != nil {
		return err
	}
	if err := x.clearFor(hdr.Name, rel); err != nil {
		return err
	}
	x.rememberParents(rel)
	if err := x.place(hdr.Name, rel, func(tmp string) error { return x.root.Symlink(target, tmp) }); err != nil {
		return err
	}
	x.add(ExtractedFile{Name: rel, Path: x.path(rel), Type: TypeSymlink, Mode: fs.ModeSymlink | 0o777, LinkTarget: target})
	return nil
}

// clearFor moves a non-directory already at rel out of the way (rpm
// replaces files); undo brings it back.
func (x *extractor) clearFor(entry, rel string) error {
	fi, err := x.root.Lstat(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &EntryError{Entry: entry, Err: err}
	}
	if fi.IsDir() {
		return entryErr(entry, ErrUnsafePath, "a directory is in the way")
	}
	return x.displace(entry, rel)
}

func (x *extractor) add(f ExtractedFile) {
	x.result.Files = append(x.result.Files, f)
	if f.Type == TypeFile {
		x.result.Written += f.Size
	}
	if x.opts.Progress != nil {
		x.opts.Progress(ExtractEvent{Name: f.Name, Size: f.Size, Files: len(x.result.Files), Written: x.result.Written}.progress())
	}
}

// finishDirs applies directory modes and mtimes once nothing more is
// written into them.
func (x *extractor) finishDirs() error {
	for i := len(x.dirMeta) - 1; i >= 0; i-- {
		d := x.dirMeta[i]
		if fi, err := x.root.Lstat(d.Name); err == nil {
			x.rememberDir(d.Name, fi)
		}
		if err := x.root.Chmod(d.Name, d.Mode.Perm()|0o700); err != nil {
			return &EntryError{Entry: d.Name, Err: err}
		}
		mt := x.mtimes[d.Name]
		if err := x.root.Chtimes(d.Name, mt, mt); err != nil {
			return &EntryError{Entry: d.Name, Err: err}
		}
		x.add(d)
	}
	return nil
}

// fail undoes the extraction and wraps err. The work directory goes
// before directory times are restored, since removing it touches dest's;
// a dest this extraction created goes too.
func (x *extractor) fail(pkg string, err error) error {
	return x.abort(fmt.Errorf("extract %s: %w", pkg, err))
}

// abort is fail for an error that already names the package.
func (x *extractor) abort(err error) error {
	dot, uerr := rollback(x.root, x.j.lines)
	// The journal is closed on every path; the work directory holding it
	// stays when the undo failed, for the next extraction to finish.
	x.closeJournal()
	if uerr == nil {
		uerr = x.closeWork()
		if dot != nil {
			// Removing the work directory touched dest's times again.
			uerr = errors.Join(uerr, restoreDir(x.root, *dot))
		}
	}
	if uerr == nil {
		removeCreated(x.createdDirs) // only when empty
	}
	if uerr != nil {
		return fmt.Errorf("%w (and restoring %s failed: %v)", err, x.dest, uerr)
	}
	return err
}
