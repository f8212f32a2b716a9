// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit/photon"
)

// ErrNotPrepared means the Photon lab has not been built (run the
// photonlab command's prepare, or `make lab-photon`).
var ErrNotPrepared = errors.New("photon lab not prepared (run `go run ./internal/lab/photonlab/cmd/photonlab prepare`)")

// manifestName is written last by Prepare: its presence means the lab is complete.
const manifestName = "photonlab.json"

// Lab is a prepared Photon lab. Every path is absolute. The top-level
// kernel fields describe the generic flavor; Flavors lists every flavor
// built (generic first), and Flavor returns the Lab seen as one of them.
type Lab struct {
	Dir           string         `json:"-"`              // <lab>/photon/<generic uname>
	KernelRelease string         `json:"kernel_release"` // uname -r, e.g. 6.1.192-1.ph5
	Version       string         `json:"version"`        // kernel version, e.g. 6.1.192
	Release       string         `json:"release"`        // RPM release without dist, e.g. 1
	Vmlinuz       string         `json:"vmlinuz"`        // bootable bzImage
	Vmlinux       string         `json:"vmlinux"`        // vmlinux with symbols and DWARF
	Config        string         `json:"config"`         // the .config the kernel was built with
	Tree          string         `json:"tree"`           // patched source tree (clean: built with O=), shared by the flavors
	BuildDir      string         `json:"build_dir"`      // the O= build directory
	ModuleSymvers string         `json:"module_symvers"` // the kernel's exports with their CRCs (MODVERSIONS)
	RepoDir       string         `json:"repo_dir"`       // repository root: RepoDir/5.0/photon_srpms_5.0_x86_64/..., all flavors
	SourceRPM     string         `json:"source_rpm"`     // the source RPM inside RepoDir
	DebuginfoRPM  string         `json:"debuginfo_rpm"`  // the debuginfo RPM inside RepoDir
	DevelRPM      string         `json:"devel_rpm"`      // the devel RPM (Module.symvers, .config) inside RepoDir
	Flavors       []FlavorKernel `json:"flavors"`
	// Packages are klpkit's own RPMs published in the updates repository
	// (Config.Packages), where the repository's repodata resolves them.
	Packages []string `json:"packages,omitempty"`

	// SigningKey and SigningCert are the lab signing key (PEM: private key
	// and certificate) and its certificate, which the kernel has in its
	// built-in keyring and signed its modules with (module.sig_enforce=1
	// then refuses modules not signed with it); "" in a lab built before
	// signing (and, for aws, before aws signed too).
	SigningKey  string `json:"signing_key,omitempty"`
	SigningCert string `json:"signing_cert,omitempty"`

	// ToolchainRoot is the toolchain root kbuild ran in (the Debian lab's:
	// ph4's gcc-10), "" for a build on the host (ph5, gcc-12); Compiler is
	// the gcc it ran as CC ("" for the host's gcc-12).
	ToolchainRoot string `json:"toolchain_root,omitempty"`
	Compiler      string `json:"compiler,omitempty"`
}

// FlavorKernel is one flavor's kernel of the lab: the fields of Lab that
// differ between flavors.
type FlavorKernel struct {
	Flavor        photon.Flavor `json:"flavor"`
	KernelRelease string        `json:"kernel_release"`
	Vmlinuz       string        `json:"vmlinuz"`
	Vmlinux       string        `json:"vmlinux"`
	Config        string        `json:"config"`
	BuildDir      string        `json:"build_dir"`
	ModuleSymvers string        `json:"module_symvers"`
	SourceRPM     string        `json:"source_rpm"`
	DebuginfoRPM  string        `json:"debuginfo_rpm"`
	DevelRPM      string        `json:"devel_rpm"`
	SigningKey    string        `json:"signing_key,omitempty"`
	SigningCert   string        `json:"signing_cert,omitempty"`
}

// ErrNoFlavor means the lab has no kernel of the flavor asked for.
var ErrNoFlavor = errors.New("photonlab: flavor not built")

// Flavor returns the lab as seen from flavor f: a copy whose kernel fields
// are f's ("" means generic).
func (l *Lab) Flavor(f photon.Flavor) (*Lab, error) {
	if f == "" {
		f = photon.Generic
	}
	for _, fk := range l.Flavors {
		if fk.Flavor != f {
			continue
		}
		c := *l
		c.KernelRelease, c.Vmlinuz, c.Vmlinux, c.Config = fk.KernelRelease, fk.Vmlinuz, fk.Vmlinux, fk.Config
		c.BuildDir, c.ModuleSymvers, c.SourceRPM, c.DebuginfoRPM = fk.BuildDir, fk.ModuleSymvers, fk.SourceRPM, fk.DebuginfoRPM
		c.DevelRPM, c.SigningKey, c.SigningCert = fk.DevelRPM, fk.SigningKey, fk.SigningCert
		return &c, nil
	}
	return nil, fmt.Errorf("%w: %s has no %s kernel", ErrNoFlavor, l.Dir, f)
}

// Kernel returns the lab kernel as package photon sees it.
func (l *Lab) Kernel() (photon.Kernel, error) { return photon.ParseKernel(l.KernelRelease) }

// PhotonDir is where Prepare keeps Photon labs inside the lab directory.
func PhotonDir(labDir string) string { return filepath.Join(labDir, "photon") }

// Open returns the newest complete Photon lab under labDir (package lab's
// directory), or an error wrapping ErrNotPrepared.
func Open(labDir string) (*Lab, error) {
	return openNewest(labDir, func(photon.Kernel) bool { return true })
}

// openNewest returns the newest complete Photon lab under labDir whose
// kernel keep accepts.
func openNewest(labDir string, keep func(photon.Kernel) bool) (*Lab, error) {
	entries, err := os.ReadDir(PhotonDir(labDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("photonlab: %w", err)
	}
	var best *Lab
	var bestKernel photon.Kernel
	for _, e := range entries {
		k, err := photon.ParseKernel(e.Name())
		if err != nil || !e.IsDir() || !keep(k) {
			continue
		}
		l, err := OpenDir(filepath.Join(PhotonDir(labDir), e.Name()))
		if err != nil {
			continue
		}
		if best == nil || k.Compare(bestKernel) > 0 {
			best, bestKernel = l, k
		}
	}
	if best == nil {
		return nil, fmt.Errorf("photonlab: %s: %w", PhotonDir(labDir), ErrNotPrepared)
	}
	return best, nil
}

// OpenDir reads the Photon lab prepared in dir (<lab>/photon/<uname>).
func OpenDir(dir string) (*Lab, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("photonlab: %s: %w", dir, ErrNotPrepared)
	}
	if err != nil {
		return nil, fmt.Errorf("photonlab: %w", err)
	}
	var l Lab
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("photonlab: manifest %s: %w", filepath.Join(dir, manifestName), err)
	}
	l.Dir = dir
	if _, err := photon.ParseKernel(l.KernelRelease); err != nil {
		return nil, fmt.Errorf("photonlab: manifest %s: %w", filepath.Join(dir, manifestName), err)
	}
	for what, p := range l.paths() {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("photonlab %s: %s missing (%v): %w", dir, what, err, ErrNotPrepared)
		}
	}
	for _, fk := range l.Flavors {
		fl, err := l.Flavor(fk.Flavor)
		if err != nil {
			return nil, err
		}
		for what, p := range fl.paths() {
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("photonlab %s: %s %s missing (%v): %w", dir, fk.Flavor, what, err, ErrNotPrepared)
			}
		}
	}
	return &l, nil
}

func (l *Lab) paths() map[string]string {
	m := map[string]string{
		"vmlinuz": l.Vmlinuz, "vmlinux": l.Vmlinux, "config": l.Config, "source tree": l.Tree,
		"build directory": l.BuildDir, "Module.symvers": l.ModuleSymvers, "repository": l.RepoDir, "source RPM": l.SourceRPM, "debuginfo RPM": l.DebuginfoRPM,
		"devel RPM": l.DevelRPM,
	}
	for _, f := range l.Packages {
		m["package "+filepath.Base(f)] = f
	}
	// Signing is optional: a flavor without it, or a lab built before it.
	for what, p := range map[string]string{"signing key": l.SigningKey, "signing certificate": l.SigningCert} {
		if p != "" {
			m[what] = p
		}
	}
	return m
}

// String describes the lab for humans.
func (l *Lab) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kernel release  %s\n", l.KernelRelease)
	for _, fk := range l.Flavors {
		if fk.Flavor != photon.Generic {
			fmt.Fprintf(&b, "%-15s %s (vmlinuz %s, source RPM %s)\n", string(fk.Flavor)+" flavor", fk.KernelRelease, fk.Vmlinuz, fk.SourceRPM)
		}
	}
	for _, row := range [][2]string{{"vmlinuz", l.Vmlinuz}, {"vmlinux", l.Vmlinux}, {"config", l.Config},
		{"source tree", l.Tree}, {"build dir", l.BuildDir}, {"Module.symvers", l.ModuleSymvers}, {"repository", l.RepoDir},
		{"source RPM", l.SourceRPM}, {"debuginfo RPM", l.DebuginfoRPM}, {"devel RPM", l.DevelRPM}} {
		fmt.Fprintf(&b, "%-15s %s\n", row[0], row[1])
	}
	for _, f := range l.Packages {
		fmt.Fprintf(&b, "%-15s %s\n", "klpkit package", f)
	}
	if l.SigningCert != "" {
		fmt.Fprintf(&b, "%-15s %s (trusted by the kernel, key %s)\n", "signing cert", l.SigningCert, l.SigningKey)
	}
	return b.String()
}

func (l *Lab) writeManifest() error {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(l.Dir, manifestName), append(data, '\n'))
}

// writeFileAtomic writes data to a temporary file beside name and renames it into place.
func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil && cerr == nil {
		werr = os.Chmod(f.Name(), 0o644)
	}
	if werr != nil || cerr != nil {
		os.Remove(f.Name())
		return errors.Join(werr, cerr)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
