// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/rpmpkg"
)

// develGenerated are the build directory's generated files the devel RPM
// carries besides .config and Module.symvers, as Photon's does (an
// absent one is left out).
var develGenerated = []string{"include/generated", "arch/x86/include/generated", "include/config/auto.conf", "include/config/kernel.release"}

// writeDevelRPM writes k's devel RPM in Photon's layout: the built
// kernel's .config, Module.symvers and generated headers under
// /usr/src/linux-headers-<uname>, the top Makefile, and
// /lib/modules/<uname>/build pointing there. Photon's package also holds
// the source headers, scripts and objtool; the lab's holds what klpkit
// reads from it and the build's own outputs, which keeps the repository
// step short.
func writeDevelRPM(file string, k photon.Kernel, fk *FlavorKernel, tree string, buildTime time.Time) error {
	headers := k.HeadersDir()
	files := []rpmpkg.File{
		{Name: "/usr/src", Mode: fs.ModeDir | 0o755},
		{Name: headers, Mode: fs.ModeDir | 0o755},
		{Name: "/lib/modules", Mode: fs.ModeDir | 0o755},
		{Name: "/lib/modules/" + k.String(), Mode: fs.ModeDir | 0o755},
		{Name: "/lib/modules/" + k.String() + "/build", Mode: fs.ModeSymlink | 0o777, LinkTarget: headers},
	}
	for _, f := range []struct{ host, name string }{
		{fk.Config, ".config"}, {fk.ModuleSymvers, "Module.symvers"}, {filepath.Join(tree, "Makefile"), "Makefile"},
	} {
		data, err := os.ReadFile(f.host)
		if err != nil {
			return err
		}
		files = append(files, rpmpkg.File{Name: headers + "/" + f.name, Body: data, Mode: 0o644})
	}
	dirs := map[string]bool{}
	for _, rel := range develGenerated {
		err := filepath.WalkDir(filepath.Join(fk.BuildDir, filepath.FromSlash(rel)), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			r, err := filepath.Rel(fk.BuildDir, p)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			name := headers + "/" + filepath.ToSlash(r)
			for d := path.Dir(name); d != headers && !dirs[d]; d = path.Dir(d) {
				dirs[d] = true
			}
			files = append(files, rpmpkg.File{Name: name, Body: data, Mode: 0o644})
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	var dirList []string
	for d := range dirs {
		dirList = append(dirList, d)
	}
	sort.Strings(dirList)
	for _, d := range dirList {
		files = append(files, rpmpkg.File{Name: d, Mode: fs.ModeDir | 0o755})
	}
	return writeRPM(file, rpmpkg.Spec{
		Name: k.Package() + "-devel", Version: k.Version.String(), Release: k.RPMRelease(), Arch: "x86_64",
		Summary: "Kernel Dev", Description: "This package contains the Linux kernel dev files",
		License: "GPLv2", Vendor: "VMware, Inc.", Group: "System Environment/Kernel",
		URL: "http://www.kernel.org", Distribution: "Photon", BuildHost: "photon-lab",
		BuildTime: buildTime, Compressor: payloadCompressor, Files: files,
	})
}
