// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/rpmpkg"
)

// payloadCompressor packs the lab's packages: their big files (an xz
// tarball, vmlinux) would take minutes with rpmpack's pure-Go xz.
const payloadCompressor = "zstd"

// sourceInputs are the files of the source RPM.
type sourceInputs struct {
	Spec    []byte
	Tarball string // linux-<version>.tar.xz on the host
	Config  []byte // config_x86_64
	Patches []Patch
	// TrustedCert is the lab certificate (Source2, TrustedCertSource);
	// nil for a flavor that trusts no lab key.
	TrustedCert []byte
}

// writeSourceRPM writes k's source RPM, as Photon names it, to file.
func writeSourceRPM(file string, k photon.Kernel, in sourceInputs, buildTime time.Time) error {
	tarball, err := os.ReadFile(in.Tarball)
	if err != nil {
		return err
	}
	config, err := k.ConfigFile()
	if err != nil {
		return err
	}
	files := []rpmpkg.File{
		{Name: k.Package() + ".spec", Body: in.Spec, Mode: 0o644},
		{Name: "linux-" + k.Version.String() + ".tar.xz", Body: tarball, Mode: 0o644},
		{Name: config, Body: in.Config, Mode: 0o644},
	}
	if in.TrustedCert != nil {
		files = append(files, rpmpkg.File{Name: TrustedCertSource, Body: in.TrustedCert, Mode: 0o644})
	}
	for _, p := range in.Patches {
		data, err := os.ReadFile(p.Path)
		if err != nil {
			return err
		}
		files = append(files, rpmpkg.File{Name: p.File, Body: data, Mode: 0o644})
	}
	return writeRPM(file, rpmpkg.Spec{
		Name: k.Package(), Version: k.Version.String(), Release: k.RPMRelease(), Arch: "src",
		Summary: "Kernel", Description: "The Linux package contains the Linux kernel.",
		License: "GPLv2", Vendor: "VMware, Inc.", Group: "System Environment/Kernel",
		URL: "http://www.kernel.org", Distribution: "Photon", BuildHost: "photon-lab",
		BuildTime: buildTime, Compressor: payloadCompressor, Files: files,
	})
}

// writeDebuginfoRPM writes k's debuginfo RPM with vmlinux at Photon's path
// and the vmlinux symlink beside it.
func writeDebuginfoRPM(file string, k photon.Kernel, vmlinux string, buildTime time.Time) error {
	data, err := os.ReadFile(vmlinux)
	if err != nil {
		return err
	}
	dir := path.Dir(k.VmlinuxPath())
	return writeRPM(file, rpmpkg.Spec{
		Name: k.Package() + "-debuginfo", Version: k.Version.String(), Release: k.RPMRelease(), Arch: "x86_64",
		Summary: "Debug information for package " + k.Package(), License: "GPLv2", Vendor: "VMware, Inc.",
		Group: "Development/Debug", Distribution: "Photon", BuildHost: "photon-lab",
		BuildTime: buildTime, Compressor: payloadCompressor,
		Files: []rpmpkg.File{
			{Name: "/usr/lib/debug", Mode: fs.ModeDir | 0o755},
			{Name: "/usr/lib/debug/lib", Mode: fs.ModeDir | 0o755},
			{Name: "/usr/lib/debug/lib/modules", Mode: fs.ModeDir | 0o755},
			{Name: dir, Mode: fs.ModeDir | 0o755},
			{Name: k.VmlinuxPath(), Body: data, Mode: 0o644},
			{Name: dir + "/vmlinux", Mode: fs.ModeSymlink | 0o777, LinkTarget: path.Base(k.VmlinuxPath())},
		},
	})
}

// writeRPM writes a package through a temporary file renamed into place.
func writeRPM(file string, spec rpmpkg.Spec) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".tmp*")
	if err != nil {
		return err
	}
	if err := rpmpkg.Write(f, spec); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("photonlab: %s: %w", filepath.Base(file), err)
	}
	if err := errors.Join(f.Close(), os.Chmod(f.Name(), 0o644)); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), file); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
