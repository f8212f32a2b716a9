// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klpkit/klpkit/internal/atomicfile"
)

// StoreLayout says where installed modules live.
//
// The default is StorePhoton, /lib/modules/<kver>/livepatches/, because that
// is what the kpatch 0.9.8 of Photon OS 3.0, 4.0 and 5.0 installs to and what
// its kpatch.service loads at boot: a host with both Photon's kpatch and a
// klpkit tool sees one set of modules. Unlike kpatch 0.9.8 the directory
// follows the target kernel version, so installing for another kernel works.
// StoreUpstream, /var/lib/kpatch/<kver>/, is what upstream kpatch and Photon's
// kpatch 0.9.10 use. Whichever is chosen, both are read (List, load --all,
// Uninstall), so modules installed by either kpatch are found.
type StoreLayout int

// Store layouts.
const (
	StorePhoton StoreLayout = iota
	StoreUpstream
)

func (l StoreLayout) String() string {
	if l == StoreUpstream {
		return "upstream"
	}
	return "photon"
}

// Installed is a module file in a store.
type Installed struct {
	Name          string      `json:"name"` // underscore form of the file name, without extensions
	Path          string      `json:"path"`
	KernelVersion string      `json:"kernel_version"`
	Layout        StoreLayout `json:"-"`
}

// SortForBoot orders installed modules for loading at boot: installed
// longest ago first (the file's modification time, which Install sets), name
// breaking ties. The newest then lands on top of the stack, so a cumulative
// patch overrides, or with atomic replace replaces, the older ones rather
// than the other way round, which name order does not ensure
// (livepatch-v10 sorts before livepatch-v9).
func SortForBoot(inst []Installed) {
	mtime := map[string]int64{}
	for _, in := range inst {
		if fi, err := os.Stat(in.Path); err == nil {
			mtime[in.Path] = fi.ModTime().UnixNano()
		}
	}
	sort.SliceStable(inst, func(i, j int) bool {
		if ti, tj := mtime[inst[i].Path], mtime[inst[j].Path]; ti != tj {
			return ti < tj
		}
		return inst[i].Name < inst[j].Name
	})
}

// storeDir returns the directory holding kver's modules in layout l.
func (s *System) storeDir(l StoreLayout, kver string) string {
	if l == StoreUpstream {
		return filepath.Join(orDefault(s.KpatchRoot, "/var/lib/kpatch"), kver)
	}
	return filepath.Join(orDefault(s.ModulesRoot, "/lib/modules"), kver, "livepatches")
}

// checkKernelVersion refuses a kernel version that is not one plain
// directory name: it is joined into store paths ("../x" would leave the
// store) and matched by filepath.Glob ("*" would match every kernel).
func checkKernelVersion(kver string) error {
	if kver == "" || kver == "." || kver == ".." || strings.ContainsAny(kver, "/*?[\\\x00") {
		return fmt.Errorf("kernel version %q: want a uname -r string, one directory name without glob characters", kver)
	}
	return nil
}

// StoreDir is where Install puts modules for kver.
func (s *System) StoreDir(kver string) string { return s.storeDir(s.Store, kver) }

// layouts lists the configured store first, then the other one.
func (s *System) layouts() []StoreLayout {
	if s.Store == StoreUpstream {
		return []StoreLayout{StoreUpstream, StorePhoton}
	}
	return []StoreLayout{StorePhoton, StoreUpstream}
}

// moduleExts are the file endings of module files, longest first.
var moduleExts = []string{".ko.zst", ".ko.xz", ".ko.gz", ".ko"}

func moduleFileBase(file string) (string, bool) {
	for _, ext := range moduleExts {
		if base, ok := strings.CutSuffix(file, ext); ok && base != "" {
			return base, true
		}
	}
	return "", false
}

// Installed lists installed modules for kver ("" = every kernel version),
// from both stores, sorted by kernel version then name. A module found in
// both stores is reported once, from the configured one.
func (s *System) Installed(kver string) ([]Installed, error) {
	all, err := s.copies(kver)
	if err != nil {
		return nil, err
	}
	var out []Installed
	seen := map[string]bool{}
	for _, in := range all {
		if key := in.KernelVersion + "/" + in.Name; !seen[key] {
			seen[key] = true
			out = append(out, in)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].KernelVersion != out[j].KernelVersion {
			return out[i].KernelVersion < out[j].KernelVersion
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// copies lists every installed module file for kver ("" = every kernel
// version), the configured store first, each store in directory order.
func (s *System) copies(kver string) ([]Installed, error) {
	var out []Installed
	for _, l := range s.layouts() {
		pattern := s.storeDir(l, "*")
		if kver != "" {
			if err := checkKernelVersion(kver); err != nil {
				return nil, err
			}
			pattern = s.storeDir(l, kver)
		}
		dirs, err := filepath.Glob(pattern)
		if err != nil {
			return nil, err
		}
		for _, dir := range dirs {
			v := filepath.Base(dir)
			if l == StorePhoton {
				v = filepath.Base(filepath.Dir(dir))
			}
			ents, err := os.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, e := range ents {
				base, ok := moduleFileBase(e.Name())
				if !ok || e.IsDir() {
					continue
				}
				out = append(out, Installed{Name: ModuleName(base), Path: filepath.Join(dir, e.Name()), KernelVersion: v, Layout: l})
			}
		}
	}
	return out, nil
}

// FindInstalled finds an installed module for kver by name: the file name
// (with or without extension) or its underscore form. A module in both
// stores is found once, in the configured one.
func (s *System) FindInstalled(name, kver string) ([]Installed, error) {
	return s.find(name, kver, s.Installed)
}

func (s *System) find(name, kver string, list func(string) ([]Installed, error)) ([]Installed, error) {
	if strings.ContainsRune(name, '/') {
		return nil, fmt.Errorf("%q: give a module name, not a path", name)
	}
	all, err := list(kver)
	if err != nil {
		return nil, err
	}
	want := name
	if base, ok := moduleFileBase(name); ok {
		want = base
	}
	want = ModuleName(want)
	var out []Installed
	for _, in := range all {
		if in.Name == want {
			out = append(out, in)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s for kernel %s: %w", name, kver, ErrNotInstalled)
	}
	return out, nil
}

// InstallOptions tune Install. The zero value installs for the running kernel.
type InstallOptions struct {
	// KernelVersion is the target kernel (default: the running one).
	KernelVersion string
	// Force skips the vermagic and livepatch checks.
	Force bool
	// Overwrite replaces an installed file of the same name instead of
	// failing with ErrAlreadyInstalled.
	Overwrite bool
}

// Install copies a module into the store for its kernel so that boot
// (kpatch load --all) loads it. It checks that the module is a livepatch
// built for that kernel, and writes a temp file renamed into place. It
// returns the installed path. It does not load the module.
func (s *System) Install(path string, opts *InstallOptions) (string, error) {
	if opts == nil {
		opts = &InstallOptions{}
	}
	base := filepath.Base(path)
	if _, ok := moduleFileBase(base); !ok {
		return "", fmt.Errorf("%s: %w: file name must end in .ko, .ko.xz, .ko.zst or .ko.gz", path, ErrBadModule)
	}
	data, err := readModuleFile(path, MaxModuleSize)
	if errors.Is(err, ErrModuleTooLarge) {
		return "", fmt.Errorf("%w: %w", ErrBadModule, err)
	}
	if err != nil {
		return "", err
	}
	m, err := ParseModule(data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	kver := opts.KernelVersion
	if kver == "" {
		if kver, err = s.Release(); err != nil {
			return "", fmt.Errorf("kernel release: %w", err)
		}
	}
	if err := checkKernelVersion(kver); err != nil {
		return "", fmt.Errorf("install %s: %w", path, err)
	}
	if !opts.Force {
		if !m.Info.Livepatch {
			return "", fmt.Errorf("%s: %w", path, ErrNotLivepatch)
		}
		if m.Info.Release() != kver {
			return "", &VermagicError{Module: path, Have: m.Info.Vermagic, Want: kver}
		}
	}
	dir := s.StoreDir(kver)
	dst := filepath.Join(dir, base)
	if !opts.Overwrite {
		if _, err := os.Stat(dst); err == nil {
			return dst, fmt.Errorf("%s: %w in %s", base, ErrAlreadyInstalled, dir)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(dst, data, 0o644); err != nil {
		return "", err
	}
	return dst, nil
}

// Uninstall removes every installed copy of a module (file name or
// underscore form, no path) for kver ("" = running kernel): in both stores
// and under each file name (a.ko, a.ko.xz), since any copy left would still
// load at boot. It removes the store directories it leaves empty, and
// returns the copies it removed, with where each was. It neither disables
// nor unloads the module.
func (s *System) Uninstall(name, kver string) ([]Installed, error) {
	if kver == "" {
		var err error
		if kver, err = s.Release(); err != nil {
			return nil, fmt.Errorf("kernel release: %w", err)
		}
	}
	if err := checkKernelVersion(kver); err != nil {
		return nil, err
	}
	found, err := s.find(name, kver, s.copies)
	if err != nil {
		return nil, err
	}
	var removed []Installed
	var errs []error
	for _, in := range found {
		if err := os.Remove(in.Path); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, in)
		// Remove only what is empty; the kernel's own /lib/modules/<kver> stays.
		os.Remove(filepath.Dir(in.Path))
	}
	return removed, errors.Join(errs...)
}
