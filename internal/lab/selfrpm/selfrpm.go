// SPDX-License-Identifier: Apache-2.0

// Package selfrpm packages klpkit's own commands as Photon OS RPMs, the
// way a Photon administrator installs tools (tdnf install): the kpatch CLI
// with its boot unit, kpatch-build, and kpatch-utils (auto_livepatch). The
// packages replace Photon's kpatch, kpatch-build and kpatch-utils: each
// provides the Photon name at KpatchCompat and obsoletes Photon's package,
// so the `Requires: kpatch` (Gen-1) and `Requires: kpatch >= 0.9.10-1`
// (Gen-2) of livepatch RPMs, Photon's and klpkit's, are satisfied by them.
// The same inputs and build time give the same bytes.
package selfrpm

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/atomicfile"
	"github.com/klpkit/klpkit/rpmpkg"
)

// KpatchCompat is the kpatch version the packages provide: upstream kpatch's
// newest release, whose CLI (load, unload, install, uninstall, list, info,
// signal), stores (Photon 0.9.8's /lib/modules/<kver>/livepatches and
// upstream's /var/lib/kpatch/<kver>) and boot unit klpkit's kpatch covers.
// It is above every Photon kpatch (0.9.8-N on 3.0 and 4.0, 0.9.10-N on 5.0),
// so their packages are obsoleted and `kpatch >= 0.9.10-1` is met.
const KpatchCompat = "0.9.11"

// Package names. They differ from Photon's so that neither replaces the
// other by a version comparison: the replacement is the Obsoletes.
const (
	KpatchName      = "klpkit-kpatch"
	KpatchBuildName = "klpkit-kpatch-build"
	UtilsName       = "klpkit-kpatch-utils"
)

// Installed paths.
const (
	KpatchPath      = "/usr/sbin/kpatch"
	UnitPath        = "/usr/lib/systemd/system/kpatch.service"
	PresetPath      = "/usr/lib/systemd/system-preset/50-kpatch.preset"
	KpatchBuildPath = "/usr/bin/kpatch-build"
	AutoPath        = "/usr/bin/auto_livepatch"
	// AutoShPath is Photon's name for auto_livepatch, for scripts written
	// against Photon's kpatch-utils: a symlink to the same binary, which
	// takes Photon's options.
	AutoShPath = "/usr/bin/auto_livepatch.sh"
)

// Stores is what the kpatch package owns of the livepatch stores: the
// directory livepatch RPMs put their module in, and upstream's store.
// Photon's store, /lib/modules/<kver>/livepatches, is per kernel, created
// by kpatch install, and belongs to no package.
var Stores = []string{"/var/lib/kpatch", "/var/opt/kpatch", rpmpkg.ModuleDir}

// Inputs are the files the packages carry.
type Inputs struct {
	// Kpatch, KpatchBuild and AutoLivepatch are the commands, built for
	// linux/amd64 without cgo (Photon has none of the build host's libraries).
	Kpatch, KpatchBuild, AutoLivepatch []byte
	// Unit is kpatch.service (examples/kpatch/kpatch.service).
	Unit []byte
	// License is klpkit's LICENSE text, installed as each package's %license.
	License []byte
}

// Options say which packages to make.
type Options struct {
	// Version and Release of the packages ("0", "0.20261207085149.git013e499a");
	// Release gets the dist tag appended (".ph5").
	Version, Release string
	// Dists are the Photon dist tags to make packages for; nil = ph4, ph5.
	Dists []string
	// BuildTime is BUILDTIME, the file mtimes and the changelog date: the
	// commit's time or SOURCE_DATE_EPOCH. Required, so that output is
	// reproducible by construction.
	BuildTime time.Time
	// Changes is the changelog text ("- ..." lines) of this version;
	// "" = a line naming the version.
	Changes string
	// Signer signs every package; nil = unsigned.
	Signer     rpmpkg.Signer
	Compressor string // see rpmpkg.Spec.Compressor; "" = "gzip:9"
}

// DefaultDists are Photon 4.0 and 5.0, the releases whose kernels klpkit
// builds for with a current kpatch.
var DefaultDists = []string{"ph4", "ph5"}

// ErrInvalid: the inputs or options cannot make valid packages.
var ErrInvalid = errors.New("invalid self-packaging input")

var (
	distRE    = regexp.MustCompile(`^ph[0-9]+$`)
	versionRE = regexp.MustCompile(`^[0-9A-Za-z._+~^]+$`)
)

func (o Options) check(in Inputs) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	for name, b := range map[string][]byte{"kpatch": in.Kpatch, "kpatch-build": in.KpatchBuild,
		"auto_livepatch": in.AutoLivepatch, "kpatch.service": in.Unit, "LICENSE": in.License} {
		if len(b) == 0 {
			return bad("%s is empty", name)
		}
	}
	for _, cmd := range []struct {
		name string
		b    []byte
	}{{"kpatch", in.Kpatch}, {"kpatch-build", in.KpatchBuild}, {"auto_livepatch", in.AutoLivepatch}} {
		if !strings.HasPrefix(string(cmd.b), "\x7fELF") {
			return bad("%s is not an ELF executable", cmd.name)
		}
	}
	if !strings.Contains(string(in.Unit), "ExecStart="+KpatchPath+" load --all") {
		return bad("kpatch.service does not run %s load --all", KpatchPath)
	}
	if !versionRE.MatchString(o.Version) || !versionRE.MatchString(o.Release) {
		return bad("version %q and release %q must be non-empty and hold no '-'", o.Version, o.Release)
	}
	if o.BuildTime.IsZero() {
		return bad("no build time (the commit's time or SOURCE_DATE_EPOCH)")
	}
	for _, d := range o.Dists {
		if !distRE.MatchString(d) {
			return bad("dist %q is not phN", d)
		}
	}
	return nil
}

// Specs returns the packages for every dist: kpatch, kpatch-build and
// kpatch-utils for each, in that order.
func Specs(in Inputs, o Options) ([]rpmpkg.Spec, error) {
	if err := o.check(in); err != nil {
		return nil, err
	}
	dists := o.Dists
	if dists == nil {
		dists = DefaultDists
	}
	var specs []rpmpkg.Spec
	for _, d := range dists {
		specs = append(specs, kpatchSpec(in, o, d), kpatchBuildSpec(in, o, d), utilsSpec(in, o, d))
	}
	return specs, nil
}

// WriteDir writes the packages into dir (created if missing), each under
// its conventional file name, and returns their paths. Each file appears
// complete or not at all.
func WriteDir(dir string, in Inputs, o Options) ([]string, error) {
	specs, err := Specs(in, o)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("packages directory: %w", err)
	}
	var files []string
	for _, s := range specs {
		file := filepath.Join(dir, s.FileName())
		if err := atomicfile.Copy(file, 0o644, func(w io.Writer) error { return rpmpkg.Write(w, s) }); err != nil {
			return files, fmt.Errorf("write %s: %w", file, err)
		}
		files = append(files, file)
	}
	return files, nil
}
