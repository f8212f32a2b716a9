// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/version"
	"github.com/klpkit/klpkit/kmod/modsign"
)

const usageText = `Usage: auto_livepatch [options] -p <patch>...
Build a livepatch module (and optionally an RPM) for a Photon OS kernel.

Options:
  -k <uname -r>            target kernel (default: the running kernel)
  -p <patch>...            patch files, one or more (mandatory); any other
                           argument that is not an option is a patch too
  -n <name>                module name (default: first 20 characters of the
                           first patch's name up to its first '.', '-' and
                           the time, e.g. CVE-2023-1234_netfil-27Nov2026-13_07_03)
  -o <dir>                 output directory
                           (default: /var/opt/auto_livepatch/livepatches)
  -R                       non-replace module: stack on earlier livepatches
                           (always on for Photon 3.0, whose kernel has no
                           atomic replace)
  --export-debuginfo       keep the objects, module source and build log in
                           /var/opt/auto_livepatch/debuginfo
                           (also spelt --exportdebuginfo)
  -d <file>                module description (MODULE_DESCRIPTION)
  --rpm                    also package the module as an RPM
  --rpm-version <v>        RPM version (default: 1)
  --rpm-release <r>        RPM release (default: 1; the dist tag is added)
  --rpm-desc <file>        RPM description (default: the -d file, else
                           "Livepatch module for Linux <kernel>")
  -s <src.rpm>             use this kernel source RPM
  -v <debuginfo.rpm>       use this kernel debuginfo RPM
  -h, --help               show this help
      --version            show klpkit's version

Dry run and machine-readable output:
  --check                  check everything a build checks before compiling
                           (kernel support, fetched and verified RPMs, the
                           prepared tree's config and compiler, the patches
                           applying) and print what would be built; nothing
                           is built or written to the output directory (the
                           download cache and prepared tree are kept)
  --json                   print the result as one JSON object on stdout
                           (status lines go to stderr)
  --json-events            progress as JSON lines on stderr, not text

klpkit options:
  --mirror <url>           repository root to fetch from, in Photon's layout
                           (repeatable; default: the public Photon hosts)
  --repo-dir <dir>         local directory with the RPMs (flat or in
                           Photon's layout)
  --cache <dir>            download and object cache
                           (default: /var/opt/auto_livepatch/cache)
  --work <dir>             prepared kernel trees
                           (default: /var/opt/auto_livepatch/src)
  -j <n>                   parallel jobs (default: CPU count)
  --symvers <file>         the kernel's Module.symvers (default: from its
                           devel RPM in the repository; without one, the
                           kernel is built in full once, which takes long)
  --make-arg <VAR=VALUE>   variable for every make run (repeatable)
  --skip-compiler-check    do not require the kernel's gcc version
  --toolchain <mode>       where the compiler, binutils and make come from:
                           auto (default) builds on this host when its
                           compiler is the kernel's, else in a toolchain
                           root with the kernel's compiler from the kernel's
                           distribution (Debian kernels so far; needs root);
                           host always uses this host's; a directory is an
                           existing toolchain root
  --build-user <user>      who runs make, the compiler and the kernel tree's
                           scripts when auto_livepatch runs as root (name,
                           uid, name:group or uid:gid; default: nobody). The
                           tree is code from the source RPM: only loading a
                           module needs root
  --build-as-root          run them as root instead (with a warning)
  --fuzz <n>               let up to n context lines at each end of a hunk
                           differ, as patch -F n (default 0: exact context);
                           every hunk placed with fuzz or an offset is printed
  --signing-key <file>     OpenPGP public key(s) (e.g. VMWARE-RPM-GPG-KEY):
                           every kernel RPM must carry a valid signature
` + signUsage + rpmSignUsage + `
Patch arguments: -p a b c, -p a -p b -p c and a b -p c are the same;
a value-taking option takes exactly one value.
`

// rpmVersionChars is what rpm allows in a version or release.
var rpmVersionChars = regexp.MustCompile(`^[A-Za-z0-9._+~^]+$`)

// errHelp: help was printed; exit 0.
var errHelp = errors.New("help")

// options are the parsed command line.
type options struct {
	kernel, name, output, description string
	patches                           []string
	nonReplace, exportDebuginfo       bool
	rpm                               bool
	rpmVersion, rpmRelease, rpmDesc   string
	srcRPM, debuginfoRPM              string
	mirrors, makeArgs                 []string
	repoDir, cache, work, symvers     string
	signingKey                        string
	sign                              modsign.FileOptions
	rpmSignKey, rpmPassphraseFile     string
	jobs, fuzz                        int
	skipCompilerCheck                 bool
	buildUser                         *build.BuildUser
	buildAsRoot                       bool
	toolchain                         build.Toolchain
	rpmVersionSet, rpmReleaseSet      bool
	check, json, jsonEvents           bool
}

// parse reads the command line (see the package doc for the patch rule).
func parse(args []string, stdout io.Writer) (*options, error) {
	if len(args) == 0 {
		fmt.Fprint(stdout, usageText)
		return nil, errHelp
	}
	o := &options{}
	fs := pflag.NewFlagSet("auto_livepatch", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVarP(&o.kernel, "kernel", "k", "", "")
	fs.StringArrayVarP(&o.patches, "patch", "p", nil, "")
	fs.StringVarP(&o.name, "name", "n", "", "")
	fs.StringVarP(&o.output, "output", "o", "", "")
	fs.BoolVarP(&o.nonReplace, "non-replace", "R", false, "")
	fs.BoolVar(&o.exportDebuginfo, "export-debuginfo", false, "")
	fs.BoolVar(&o.exportDebuginfo, "exportdebuginfo", false, "")
	fs.StringVarP(&o.description, "description", "d", "", "")
	fs.BoolVar(&o.rpm, "rpm", false, "")
	fs.StringVar(&o.rpmVersion, "rpm-version", "1", "")
	fs.StringVar(&o.rpmRelease, "rpm-release", "1", "")
	fs.StringVar(&o.rpmDesc, "rpm-desc", "", "")
	fs.StringVarP(&o.srcRPM, "src-rpm", "s", "", "")
	fs.StringVarP(&o.debuginfoRPM, "debuginfo-rpm", "v", "", "")
	fs.StringArrayVar(&o.mirrors, "mirror", nil, "")
	fs.StringVar(&o.repoDir, "repo-dir", "", "")
	fs.StringVar(&o.cache, "cache", "", "")
	fs.StringVar(&o.work, "work", "", "")
	fs.IntVarP(&o.jobs, "jobs", "j", 0, "")
	fs.StringVar(&o.symvers, "symvers", "", "")
	fs.StringArrayVar(&o.makeArgs, "make-arg", nil, "")
	fs.BoolVar(&o.skipCompilerCheck, "skip-compiler-check", false, "")
	buildUser := fs.String("build-user", "", "")
	fs.BoolVar(&o.buildAsRoot, "build-as-root", false, "")
	toolchain := fs.String("toolchain", "auto", "")
	fs.IntVar(&o.fuzz, "fuzz", 0, "")
	fs.StringVar(&o.signingKey, "signing-key", "", "")
	fs.StringVar(&o.sign.Key, "sign-key", "", "")
	fs.StringVar(&o.sign.Cert, "sign-cert", "", "")
	fs.StringVar(&o.sign.Hash, "sign-hash", "", "")
	fs.StringVar(&o.rpmSignKey, "rpm-sign-key", "", "")
	fs.StringVar(&o.rpmPassphraseFile, "rpm-sign-passphrase-file", "", "")
	fs.BoolVar(&o.check, "check", false, "")
	fs.BoolVar(&o.json, "json", false, "")
	fs.BoolVar(&o.jsonEvents, "json-events", false, "")
	help := fs.BoolP("help", "h", false, "")
	showVersion := fs.Bool("version", false, "")
	if err := checkValues(fs, args); err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%v (see auto_livepatch -h)", err)
	}
	if *help {
		fmt.Fprint(stdout, usageText)
		return nil, errHelp
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Line())
		return nil, errHelp // printed; exit 0
	}
	o.patches = append(o.patches, fs.Args()...)
	o.rpmVersionSet, o.rpmReleaseSet = fs.Changed("rpm-version"), fs.Changed("rpm-release")
	if len(o.patches) == 0 {
		return nil, fail("Please input at least one patch file")
	}
	if !o.rpm && (o.rpmVersionSet || o.rpmReleaseSet || o.rpmDesc != "") {
		return nil, errors.New("--rpm-version, --rpm-release and --rpm-desc need --rpm")
	}
	for _, v := range []struct{ flag, val string }{{"--rpm-version", o.rpmVersion}, {"--rpm-release", o.rpmRelease}} {
		if !rpmVersionChars.MatchString(v.val) {
			return nil, fmt.Errorf("%s %q: want letters, digits and ._+~^ only", v.flag, v.val)
		}
	}
	if o.jobs < 0 {
		return nil, fmt.Errorf("-j %d: the job count must be positive", o.jobs)
	}
	if o.fuzz < 0 {
		return nil, fmt.Errorf("--fuzz %d: the fuzz must be 0 or more", o.fuzz)
	}
	for _, m := range o.makeArgs {
		if k, _, ok := strings.Cut(m, "="); !ok || k == "" {
			return nil, fmt.Errorf("--make-arg %q: want VAR=VALUE", m)
		}
	}
	if err := o.sign.Validate(); err != nil {
		return nil, signOptionsErr(err)
	}
	var err error
	if o.toolchain, err = build.ParseToolchain(*toolchain); err != nil {
		return nil, err
	}
	if *buildUser != "" {
		if o.buildAsRoot {
			return nil, errors.New("--build-user and --build-as-root contradict each other")
		}
		if o.buildUser, err = build.LookupBuildUser(*buildUser); err != nil {
			return nil, fmt.Errorf("--build-user: %w", err)
		}
	}
	return o, nil
}

// checkValues refuses a value-taking option followed by another option,
// as auto_livepatch.sh does: pflag would take "-o -R" as the directory
// "-R". Negative numbers ("-j -1") are values; "--x=-y" says what it means.
func checkValues(fs *pflag.FlagSet, args []string) error {
	for i := 0; i+1 < len(args); i++ {
		a := args[i]
		if a == "--" {
			return nil
		}
		var f *pflag.Flag
		switch {
		case strings.HasPrefix(a, "--") && !strings.Contains(a, "="):
			f = fs.Lookup(a[2:])
		case len(a) == 2 && a[0] == '-' && a[1] != '-':
			f = fs.ShorthandLookup(a[1:])
		}
		if f == nil || f.NoOptDefVal != "" {
			continue // not an option, or one without a value
		}
		if v := args[i+1]; len(v) > 1 && v[0] == '-' && !isNumber(v[1:]) {
			return fmt.Errorf("%s needs a value, not the option %s", a, v)
		}
		i++ // skip the value
	}
	return nil
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// fail makes an error with one of auto_livepatch.sh's messages, which
// start with a capital letter and which scripts may match.
func fail(format string, args ...any) error { return fmt.Errorf(format, args...) }
