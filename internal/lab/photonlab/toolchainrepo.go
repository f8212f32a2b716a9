// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/atomicfile"
	"github.com/klpkit/klpkit/rpmpkg"
)

// Photon's repositories hold the toolchain a kernel was built with as RPMs
// (gcc, binutils, glibc-devel, make, ...), which build/photontoolchain
// provisions into a root. The lab has no Photon toolchain to offer: its
// kernels were built with a Debian gcc. ToolchainRPMs packages the files of
// a build/toolchain Debian root as Photon-style RPMs instead: Photon's
// package names and the requirements between them (gcc requires
// binutils, glibc-devel, libgcc of its own version, gmp, mpfr and libmpc;
// glibc-devel requires glibc of its version and linux-api-headers), the
// files split by path as Photon splits them. What Photon ships as many
// small packages (bash, coreutils, sed, perl, elfutils-libelf-devel,
// openssl-devel, ...) is one package here, lab-build-tools, which provides
// those names, so that a resolver asking for them by name finds it. The
// compiler in them is the Debian root's, so it reports what the lab
// kernel's config names.

// ToolchainOptions say which packages ToolchainRPMs writes.
type ToolchainOptions struct {
	// GCCVersion is the gcc package's version ("12.2.0"): the root's gcc.
	GCCVersion string
	// Dist is the Photon dist tag the releases end in: ".ph5" (5.0, from
	// bookworm's root) or ".ph4" (4.0, from bullseye's); it also chooses
	// the versions of the packages around gcc (toolchainDists).
	Dist string
	// BuildTime is each package's build time and file mtime.
	BuildTime time.Time
	// Signer signs every package; nil = unsigned.
	Signer rpmpkg.Signer
	// Compressor is rpmpkg.Spec's; "" = "zstd:3" (fast enough for the
	// root's 300 MB).
	Compressor string
}

// toolchainPackage is one package of the split and the paths it claims.
type toolchainPackage struct {
	name, version, release string
	requires, provides     []string
	claims                 func(rel string) bool
}

// distVersions are the versions of the packages around gcc in one Photon
// release, as Photon ships them (the files are the Debian root's).
type distVersions struct {
	make, linuxAPI, gmp, mpfr, libmpc, binutils, glibc string
}

// toolchainDists are the releases ToolchainRPMs writes for, by dist tag.
var toolchainDists = map[string]distVersions{
	".ph4": {make: "4.3", linuxAPI: "5.10.4", gmp: "6.2.0", mpfr: "4.1.0", libmpc: "1.2.0", binutils: "2.35", glibc: "2.32"},
	".ph5": {make: "4.3", linuxAPI: "6.1.10", gmp: "6.2.1", mpfr: "4.1.0", libmpc: "1.3.1", binutils: "2.40", glibc: "2.36"},
}

// ErrUnknownDist: ToolchainOptions.Dist names no release of toolchainDists.
var ErrUnknownDist = errors.New("photonlab: toolchain RPMs for an unknown dist tag")

// glibcVersioned matches the libraries glibc before 2.34 installs under
// versioned names (libc-2.31.so, ld-2.31.so), to which libc.so.6 and the
// other sonames are links.
var glibcVersioned = regexp.MustCompile(`^(ld|libc|libm|libmvec|libdl|libpthread|librt|libresolv|libutil|libanl|libBrokenLocale|libnsl|libmemusage|libpcprofile|libSegFault|libthread_db)-[0-9.]+\.so$`)

// The split, first claim wins; lab-build-tools takes the rest.
func toolchainPackages(o ToolchainOptions, v distVersions) []toolchainPackage {
	d := o.Dist
	gccRel := "2" + d
	glibcVer, glibcRel := v.glibc, "2"+d
	base := func(rel string) string { return path.Base(rel) }
	inBin := func(rel string) bool {
		dir := path.Dir(rel)
		return dir == "bin" || dir == "usr/bin" || dir == "sbin" || dir == "usr/sbin"
	}
	inLib := func(rel string) bool {
		dir := path.Dir(rel)
		return dir == "lib/x86_64-linux-gnu" || dir == "usr/lib/x86_64-linux-gnu" || dir == "lib64"
	}
	libPrefix := func(rel string, prefixes ...string) bool {
		if !inLib(rel) {
			return false
		}
		for _, p := range prefixes {
			if strings.HasPrefix(base(rel), p) {
				return true
			}
		}
		return false
	}
	under := func(rel string, dirs ...string) bool {
		for _, d := range dirs {
			if strings.HasPrefix(rel, d+"/") {
				return true
			}
		}
		return false
	}
	binutilsProgs := []string{"as", "ld", "ld.bfd", "ld.gold", "objdump", "objcopy", "nm", "ar", "ranlib", "readelf",
		"strip", "size", "strings", "addr2line", "c++filt", "elfedit", "gprof", "gprofng", "dwp"}
	glibcLibs := []string{"ld-linux", "libc.so", "libc_malloc_debug.so", "libm.so", "libmvec.so", "libdl.so", "libpthread.so",
		"librt.so", "libresolv.so", "libutil.so", "libanl.so", "libBrokenLocale.so", "libnss_", "libthread_db.so",
		"libmemusage.so", "libpcprofile.so", "libnsl.so.1"}
	glibcDevel := []string{"libc.a", "libc.so", "libc_nonshared.a", "libm.a", "libm-", "libm.so", "libmvec.a", "libmvec.so",
		"libdl.a", "libpthread.a", "librt.a", "libresolv.", "libutil.a", "libanl.", "libBrokenLocale.", "libg.a", "libmcheck.a",
		"libnss_", "libthread_db.", "libc_malloc_debug.so", "crt1.o", "crti.o", "crtn.o", "Mcrt1.o", "Scrt1.o", "gcrt1.o", "grcrt1.o", "rcrt1.o"}
	return []toolchainPackage{
		{name: "make", version: v.make, release: "3" + d, requires: []string{"glibc"},
			claims: func(rel string) bool {
				return rel == "usr/bin/make" || rel == "usr/bin/make-first-existing-target" || rel == "usr/include/gnumake.h"
			}},
		{name: "linux-api-headers", version: v.linuxAPI, release: "1" + d,
			claims: func(rel string) bool {
				return under(rel, "usr/include/linux", "usr/include/asm-generic", "usr/include/x86_64-linux-gnu/asm",
					"usr/include/drm", "usr/include/misc", "usr/include/mtd", "usr/include/rdma", "usr/include/sound",
					"usr/include/video", "usr/include/xen")
			}},
		{name: "gcc", version: o.GCCVersion, release: gccRel,
			requires: []string{"binutils", "glibc-devel", "libgcc = " + o.GCCVersion + "-" + gccRel, "gmp", "mpfr", "libmpc"},
			claims: func(rel string) bool {
				b := base(rel)
				if inBin(rel) {
					b = strings.TrimPrefix(b, "x86_64-linux-gnu-")
					return strings.HasPrefix(b, "gcc") || strings.HasPrefix(b, "cpp") || strings.HasPrefix(b, "gcov") ||
						strings.HasPrefix(b, "lto-dump") || b == "c89-gcc" || b == "c99-gcc"
				}
				return under(rel, "usr/lib/gcc", "usr/libexec/gcc") || rel == "lib/cpp" || libPrefix(rel, "libisl", "libcc1")
			}},
		{name: "libgcc", version: o.GCCVersion, release: gccRel, requires: []string{"glibc"},
			claims: func(rel string) bool {
				return libPrefix(rel, "libgcc_s", "libstdc++", "libgomp", "libquadmath", "libatomic", "libitm", "libasan",
					"liblsan", "libtsan", "libubsan", "libhwasan")
			}},
		{name: "gmp", version: v.gmp, release: "3" + d, requires: []string{"glibc"},
			claims: func(rel string) bool { return libPrefix(rel, "libgmp") }},
		{name: "mpfr", version: v.mpfr, release: "4" + d, requires: []string{"gmp"},
			claims: func(rel string) bool { return libPrefix(rel, "libmpfr") }},
		{name: "libmpc", version: v.libmpc, release: "1" + d, requires: []string{"mpfr"},
			claims: func(rel string) bool { return libPrefix(rel, "libmpc") }},
		{name: "binutils", version: v.binutils, release: "1" + d, requires: []string{"glibc"},
			claims: func(rel string) bool {
				if inBin(rel) {
					b := strings.TrimPrefix(base(rel), "x86_64-linux-gnu-")
					return slices.Contains(binutilsProgs, b) || strings.HasPrefix(b, "gp-")
				}
				return libPrefix(rel, "libbfd", "libopcodes", "libctf", "libsframe", "libgprofng") ||
					under(rel, "usr/lib/x86_64-linux-gnu/bfd-plugins", "usr/lib/x86_64-linux-gnu/ldscripts", "usr/x86_64-linux-gnu")
			}},
		{name: "glibc-devel", version: glibcVer, release: glibcRel,
			requires: []string{"glibc = " + glibcVer + "-" + glibcRel, "linux-api-headers"},
			claims: func(rel string) bool {
				if path.Dir(rel) == "usr/lib/x86_64-linux-gnu" {
					for _, p := range glibcDevel {
						if strings.HasPrefix(base(rel), p) && !strings.Contains(base(rel), ".so.") {
							return true
						}
					}
					return false
				}
				return under(rel, "usr/include") && !under(rel, "usr/include/openssl", "usr/include/x86_64-linux-gnu/openssl", "usr/include/elfutils") &&
					!slices.Contains([]string{"libelf.h", "gelf.h", "nlist.h", "dwarf.h", "zlib.h", "zconf.h"}, base(rel))
			}},
		{name: "glibc", version: glibcVer, release: glibcRel,
			claims: func(rel string) bool {
				return libPrefix(rel, glibcLibs...) || (inLib(rel) && glibcVersioned.MatchString(base(rel))) || under(rel, "usr/lib/x86_64-linux-gnu/gconv", "usr/lib/x86_64-linux-gnu/audit") ||
					rel == "sbin/ldconfig" || rel == "usr/bin/ldd"
			}},
		{name: "lab-build-tools", version: "1.0", release: "1" + d, requires: []string{"glibc"},
			provides: []string{"bash", "coreutils", "sed", "grep", "gawk", "findutils", "diffutils", "gzip", "xz", "tar",
				"cpio", "kmod", "bc", "bison", "flex", "perl", "elfutils-libelf-devel", "openssl-devel"},
			claims: func(string) bool { return true }},
	}
}

// skipped are the parts of a root no build reads.
func skipped(rel string) bool {
	// usr/src: a lab root's Debian kernel headers, which a Photon build
	// never reads (it has the kernel's own tree).
	for _, d := range []string{"usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "usr/share/lintian", "usr/src", "dev", "proc", "sys", "tmp", "run"} {
		if rel == d || strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return rel == "klpkit-toolchain.list"
}

// ToolchainRPMs writes the packages of root's files (a build/toolchain
// root) into dir, and returns their paths. Absolute symlinks become
// relative ones (an RPM extracted into a root must not name the host's
// files); every other entry is as in the root.
func ToolchainRPMs(ctx context.Context, root, dir string, o ToolchainOptions) ([]string, error) {
	if o.GCCVersion == "" || o.Dist == "" || o.BuildTime.IsZero() {
		return nil, fmt.Errorf("photonlab: toolchain RPMs: GCCVersion, Dist and BuildTime are required")
	}
	versions, ok := toolchainDists[o.Dist]
	if !ok {
		return nil, fmt.Errorf("%w %q (.ph4 or .ph5)", ErrUnknownDist, o.Dist)
	}
	if o.Compressor == "" {
		o.Compressor = "zstd:3"
	}
	pkgs := toolchainPackages(o, versions)
	files := make([][]rpmpkg.File, len(pkgs))
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if skipped(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil // parents are made on extraction
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		f := rpmpkg.File{Name: "/" + rel, Mode: fi.Mode().Perm(), MTime: o.BuildTime}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if path.IsAbs(target) {
				if target, err = filepath.Rel(path.Dir("/"+rel), target); err != nil {
					return err
				}
			}
			f.Mode, f.LinkTarget = fs.ModeSymlink|0o777, target
		case fi.Mode().IsRegular():
			if f.Body, err = os.ReadFile(p); err != nil {
				return err
			}
		default:
			return nil // devices and fifos: none a build needs
		}
		for i, pk := range pkgs {
			if pk.claims(rel) {
				files[i] = append(files[i], f)
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("photonlab: toolchain root %s: %w", root, err)
	}
	// Photon's gcc is /usr/bin/gcc and cc; a Debian root without Debian's
	// gcc package has only gcc-<major>: link them as the gcc package does.
	major, _, _ := strings.Cut(o.GCCVersion, ".")
	gcc := slices.IndexFunc(pkgs, func(p toolchainPackage) bool { return p.name == "gcc" })
	if _, err := os.Lstat(filepath.Join(root, "usr/bin/gcc-"+major)); err == nil {
		for _, l := range []struct{ name, target string }{{"gcc", "gcc-" + major}, {"cc", "gcc"}} {
			if _, err := os.Lstat(filepath.Join(root, "usr/bin", l.name)); err == nil {
				continue
			}
			files[gcc] = append(files[gcc], rpmpkg.File{Name: "/usr/bin/" + l.name, Mode: fs.ModeSymlink | 0o777, LinkTarget: l.target, MTime: o.BuildTime})
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for i, pk := range pkgs {
		if len(files[i]) == 0 {
			return nil, fmt.Errorf("photonlab: toolchain root %s has no file for package %s", root, pk.name)
		}
		spec := rpmpkg.Spec{
			Name: pk.name, Version: pk.version, Release: pk.release, Arch: "x86_64",
			Summary:     pk.name + " for the Photon lab, from a Debian toolchain root",
			Description: "The files of a Debian toolchain root, packaged as Photon's " + pk.name + " for klpkit's Photon lab.",
			License:     "GPL", Vendor: "klpkit lab", Group: "Development/Tools", BuildHost: "photonlab",
			Distribution: "Photon lab", BuildTime: o.BuildTime, Compressor: o.Compressor,
			Requires: pk.requires, Provides: pk.provides, Files: files[i], Signer: o.Signer,
		}
		file := filepath.Join(dir, spec.FileName())
		if err := atomicfile.Copy(file, 0o644, func(w io.Writer) error { return rpmpkg.Write(w, spec) }); err != nil {
			return out, fmt.Errorf("photonlab: write %s: %w", file, err)
		}
		out = append(out, file)
	}
	return out, nil
}

// WriteRepodata indexes the packages below repoDir as createrepo does
// (see writeRepodata), for repositories a test or a lab step assembles.
func WriteRepodata(repoDir string, now time.Time) error { return writeRepodata(repoDir, now) }
