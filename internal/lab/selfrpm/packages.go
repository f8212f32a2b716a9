// SPDX-License-Identifier: Apache-2.0

package selfrpm

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/klpkit/klpkit/rpmpkg"
)

// Photon's conventions, klpkit's identity.
const (
	vendor   = "klpkit"
	packager = "klpkit project <https://github.com/klpkit/klpkit>"
	url      = "https://github.com/klpkit/klpkit"
	license  = "Apache-2.0"
	distro   = "Photon"
)

// replaces returns the relations that make a package stand in for Photon's
// package name: provided at KpatchCompat, every older Photon package
// obsoleted (rpm and libsolv match Obsoletes against package names only, so
// this package's own Provides is untouched), and a newer one refused (it
// would own the same paths).
func replaces(name string) (provides, obsoletes, conflicts []string) {
	return []string{name + " = " + KpatchCompat},
		[]string{name + " <= " + KpatchCompat},
		[]string{name + " > " + KpatchCompat}
}

// base is what every package shares.
func base(in Inputs, o Options, dist, name, group, summary, description string) rpmpkg.Spec {
	release := o.Release + "." + dist
	changes := o.Changes
	if changes == "" {
		changes = fmt.Sprintf("- klpkit %s-%s for Photon OS %s.0.", o.Version, o.Release, strings.TrimPrefix(dist, "ph"))
	}
	provides, obsoletes, conflicts := replaces(strings.TrimPrefix(name, "klpkit-"))
	return rpmpkg.Spec{
		Name: name, Version: o.Version, Release: release, Arch: "x86_64",
		Summary: summary, Description: description,
		License: license, Vendor: vendor, Group: group, URL: url, Packager: packager,
		Distribution: distro, BuildHost: "klpkit",
		BuildTime: o.BuildTime, Compressor: compressor(o),
		Provides: provides, Obsoletes: obsoletes, Conflicts: conflicts,
		Files: []rpmpkg.File{
			dir("/usr/share/licenses/" + name),
			{Name: "/usr/share/licenses/" + name + "/LICENSE", Mode: 0o644, Body: in.License, Flags: rpmpkg.FlagLicense},
		},
		Changelog: []rpmpkg.ChangelogEntry{{
			Time:   o.BuildTime,
			Author: fmt.Sprintf("%s %s-%s", packager, o.Version, release),
			Text:   changes,
		}},
		Signer: o.Signer,
	}
}

func compressor(o Options) string {
	if o.Compressor == "" {
		return "gzip:9"
	}
	return o.Compressor
}

func dir(name string) rpmpkg.File { return rpmpkg.File{Name: name, Mode: 0o755 | fs.ModeDir} }

func kpatchSpec(in Inputs, o Options, dist string) rpmpkg.Spec {
	s := base(in, o, dist, KpatchName, "System Environment/Kernel",
		"Load, unload, install and list kernel livepatch modules (klpkit's kpatch)",
		"The kpatch command of klpkit: loads, unloads, installs for boot, uninstalls and lists\n"+
			"livepatch modules, with the command line and output of kpatch. kpatch.service loads the\n"+
			"installed modules at boot (kpatch.enable=0 on the kernel command line skips it).\n"+
			"Replaces Photon's kpatch package; livepatch packages that require kpatch install with it.")
	s.Files = append(s.Files,
		rpmpkg.File{Name: KpatchPath, Mode: 0o755, Body: in.Kpatch},
		rpmpkg.File{Name: UnitPath, Mode: 0o644, Body: in.Unit},
		rpmpkg.File{Name: PresetPath, Mode: 0o644, Body: []byte("enable kpatch.service\n")},
	)
	for _, d := range Stores {
		s.Files = append(s.Files, dir(d))
	}
	s.Scripts = kpatchScriptlets
	return s
}

// kpatchScriptlets follow systemd's packaging macros: enable the unit as the
// preset says on first install, disable it on erase, reload systemd when it
// runs. Nothing is stopped or unloaded: stopping kpatch.service never
// unloaded modules. In an image root (no running systemd) systemctl makes
// or removes the preset's symlink offline. They test for systemctl by path,
// not with `command -v ... >/dev/null`, which fails in a root without /dev;
// systemctl's own messages ("Created symlink ...") are the administrator's
// to see. They never fail rpm.
var kpatchScriptlets = rpmpkg.Scriptlets{
	Post: `if [ "$1" -eq 1 ] && [ -x /usr/bin/systemctl ]; then
	systemctl preset kpatch.service || :
fi
exit 0
`,
	PreUn: `if [ "$1" -eq 0 ] && [ -x /usr/bin/systemctl ]; then
	systemctl --no-reload disable kpatch.service || :
fi
exit 0
`,
	PostUn: `if [ -d /run/systemd/system ] && [ -x /usr/bin/systemctl ]; then
	systemctl daemon-reload || :
fi
exit 0
`,
}

func kpatchBuildSpec(in Inputs, o Options, dist string) rpmpkg.Spec {
	s := base(in, o, dist, KpatchBuildName, "Development/Tools",
		"Build kernel livepatch modules from source patches (klpkit's kpatch-build)",
		"The kpatch-build command of klpkit: builds a livepatch module from patches against a\n"+
			"kernel source tree, compiling only the objects the patches change. Replaces Photon's\n"+
			"kpatch-build package.")
	s.Files = append(s.Files, rpmpkg.File{Name: KpatchBuildPath, Mode: 0o755, Body: in.KpatchBuild})
	// kbuild compiles and links the changed objects.
	s.Requires = []string{"gcc", "make", "binutils"}
	return s
}

func utilsSpec(in Inputs, o Options, dist string) rpmpkg.Spec {
	s := base(in, o, dist, UtilsName, "Development/Tools",
		"Build livepatch modules and RPMs for Photon OS kernels (klpkit's auto_livepatch)",
		"auto_livepatch of klpkit: fetches a Photon kernel's source and debug packages, builds a\n"+
			"livepatch module from patches and packages it as a livepatch RPM, without docker. It\n"+
			"takes the options of Photon's auto_livepatch.sh, which is installed as a link to it.\n"+
			"Replaces Photon's kpatch-utils package.")
	s.Files = append(s.Files,
		rpmpkg.File{Name: AutoPath, Mode: 0o755, Body: in.AutoLivepatch},
		rpmpkg.File{Name: AutoShPath, Mode: 0o777 | fs.ModeSymlink, LinkTarget: "auto_livepatch"},
	)
	// The kernel's own build of a prepared Photon tree: the tools Photon's
	// linux.spec builds with.
	s.Requires = []string{"gcc", "make", "binutils", "bc", "bison", "flex", "elfutils-libelf-devel", "openssl-devel"}
	return s
}
