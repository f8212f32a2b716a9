// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/klpkit/klpkit/kmod"
)

// ModuleDir is where Photon's livepatch packages (kpatch-utils Gen-1) put
// the module; the %post scriptlet installs it for boot from there.
const ModuleDir = "/var/opt/kpatch/modules"

// Defaults of Photon's livepatch package template.
const (
	DefaultSummary = "Package containing a livepatch module for Photon OS"
	DefaultVendor  = "VMware, Inc."
	DefaultGroup   = "System Environment/Kernel"
	DefaultLicense = "GPLv2"
	DefaultDistro  = "Photon"
)

// Package describes a livepatch RPM: one module for one kernel.
type Package struct {
	// Name is the package name; the module file is Name.ko (Photon's rule).
	Name string
	// ModuleName is the kernel's name for the loaded module, used by
	// kpatch unload (uninstall names the file, Name). Build reads it from
	// the module (its name, '-' spelled '_' as the kernel does); when set,
	// it must match. FileName, which reads no module, does not use it.
	ModuleName string
	// Version and Release default to "1" and "1"; Release gets the dist
	// tag appended (".ph5").
	Version, Release string
	// Kernel is the target `uname -r`, e.g. "6.1.83-5.ph5" or
	// "5.10.118-rt67-3.ph4-rt": the module's vermagic must name it, and
	// the scriptlets install the module for it and load it only when it
	// is the running kernel.
	Kernel string
	// Dist is the dist tag: "ph5", ".ph5" or the Photon release "5.0";
	// "" = taken from Kernel.
	Dist string

	Summary string // "" = DefaultSummary
	// Description is the package description (the module's own description
	// is separate). When empty, DescriptionPath is read; when both are
	// empty, a description naming the module and kernel is generated.
	Description     string
	DescriptionPath string

	Vendor, Group, License, Distribution, Packager, URL string

	// Module is the .ko image; when nil, ModulePath is read. Build refuses
	// anything but a livepatch module (livepatch=Y in .modinfo) whose
	// vermagic names Kernel (ErrInvalidModule).
	Module     []byte
	ModulePath string

	// BuildTime: BUILDTIME and file mtimes; pass SOURCE_DATE_EPOCH for
	// reproducible packages. Zero = time.Now().
	BuildTime  time.Time
	Compressor string // see Spec.Compressor
	// Requires adds to "kpatch".
	Requires []string
	Signer   Signer
}

// Build writes the livepatch RPM described by p to w.
func Build(w io.Writer, p Package) error {
	s, err := p.Spec()
	if err != nil {
		return err
	}
	return Write(w, *s)
}

// FileName is the package's file name: NAME-VER-REL.phN.x86_64.rpm.
func (p Package) FileName() (string, error) {
	s, err := p.withDefaults(false)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%s-%s.x86_64.rpm", s.Name, s.Version, s.Release), nil
}

// ModuleFile is the installed path of the module.
func (p Package) ModuleFile() string { return ModuleDir + "/" + p.Name + ".ko" }

var (
	safeName    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]*$`)
	safeKernel  = regexp.MustCompile(`^[0-9][A-Za-z0-9_.+~-]*$`)
	distInUname = regexp.MustCompile(`\.(ph[0-9]+)(?:-|$)`)
	distTag     = regexp.MustCompile(`^ph[0-9]+$`)
)

// withDefaults validates p and fills in defaults; it reads ModulePath only
// when readModule is set.
func (p Package) withDefaults(readModule bool) (Package, error) {
	bad := func(format string, args ...any) (Package, error) {
		return p, fmt.Errorf("%w: livepatch package %q: %s", ErrInvalidSpec, p.Name, fmt.Sprintf(format, args...))
	}
	if !safeName.MatchString(p.Name) {
		return bad("name must be letters, digits and _.+- (got %q)", p.Name)
	}
	if !safeKernel.MatchString(p.Kernel) {
		return bad("target kernel %q is not a uname -r string", p.Kernel)
	}
	if p.Version == "" {
		p.Version = "1"
	}
	if p.Release == "" {
		p.Release = "1"
	}
	dist := strings.TrimPrefix(p.Dist, ".")
	if release := strings.TrimSuffix(dist, ".0"); release != "" && strings.Trim(release, "0123456789") == "" {
		dist = "ph" + release // a Photon release: "5.0" or "5"
	}
	if dist == "" {
		m := distInUname.FindStringSubmatch(p.Kernel)
		if m == nil {
			return bad("no .phN dist tag in kernel %q; set Dist", p.Kernel)
		}
		dist = m[1]
	}
	if !distTag.MatchString(dist) {
		return bad("dist %q is not phN", p.Dist)
	}
	p.Dist = dist
	if !strings.HasSuffix(p.Release, "."+dist) {
		p.Release += "." + dist
	}
	if readModule {
		what := fmt.Sprintf("(%d bytes given for package %q)", len(p.Module), p.Name)
		if p.Module == nil {
			if p.ModulePath == "" {
				return bad("no module: set Module or ModulePath")
			}
			b, err := os.ReadFile(p.ModulePath)
			if err != nil {
				return p, fmt.Errorf("livepatch package %q: read module: %w", p.Name, err)
			}
			p.Module, what = b, p.ModulePath
		}
		if len(p.Module) == 0 {
			return bad("module %s is empty", what)
		}
		if err := p.checkModule(what); err != nil {
			return p, fmt.Errorf("livepatch package %q: %w", p.Name, err)
		}
	}
	if p.ModuleName == "" {
		p.ModuleName = kmod.ModuleName(p.Name)
	}
	if !safeName.MatchString(p.ModuleName) {
		return bad("module name %q", p.ModuleName)
	}
	if p.Description == "" && p.DescriptionPath != "" {
		b, err := os.ReadFile(p.DescriptionPath)
		if err != nil {
			return p, fmt.Errorf("livepatch package %q: read description: %w", p.Name, err)
		}
		p.Description = strings.TrimRight(string(b), "\n")
	}
	defaults := []struct {
		field *string
		value string
	}{
		{&p.Summary, DefaultSummary}, {&p.Vendor, DefaultVendor}, {&p.Group, DefaultGroup},
		{&p.License, DefaultLicense}, {&p.Distribution, DefaultDistro},
		{&p.Description, fmt.Sprintf("Livepatch module %s for the Photon OS %s kernel %s.",
			p.ModuleName, photonRelease(dist), p.Kernel)},
	}
	for _, d := range defaults {
		if *d.field == "" {
			*d.field = d.value
		}
	}
	if p.BuildTime.IsZero() {
		p.BuildTime = time.Now()
	}
	return p, nil
}

func photonRelease(dist string) string {
	return strings.TrimPrefix(dist, "ph") + ".0"
}

// Spec returns the generic package description Build writes.
func (p Package) Spec() (*Spec, error) {
	p, err := p.withDefaults(true)
	if err != nil {
		return nil, err
	}
	dir := File{Mode: 0o755 | os.ModeDir}
	varOpt, modules := dir, dir
	varOpt.Name, modules.Name = "/var/opt/kpatch", ModuleDir
	return &Spec{
		Name: p.Name, Version: p.Version, Release: p.Release, Arch: "x86_64",
		Summary: p.Summary, Description: p.Description,
		License: p.License, Vendor: p.Vendor, Group: p.Group, URL: p.URL,
		Packager: p.Packager, Distribution: p.Distribution,
		BuildTime: p.BuildTime, Compressor: p.Compressor,
		Requires: append([]string{"kpatch"}, p.Requires...),
		Files: []File{
			varOpt, modules,
			{Name: p.ModuleFile(), Mode: 0o644, Body: p.Module},
		},
		Scripts: livepatchScriptlets(p.Kernel, p.ModuleName, p.Name, p.ModuleFile()),
		Signer:  p.Signer,
	}, nil
}

// ParseSourceDateEpoch parses a SOURCE_DATE_EPOCH value (decimal seconds
// since 1970) for Package.BuildTime; the caller reads the environment.
func ParseSourceDateEpoch(s string) (time.Time, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > 1<<32-1 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970 that fit in 32 bits", s)
	}
	return time.Unix(n, 0).UTC(), nil
}
