// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/atomicfile"
	"github.com/klpkit/klpkit/internal/beneath"
	"github.com/klpkit/klpkit/internal/flock"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/specprep"
)

// PrepareOptions tunes Prepare. Dir is required; the rest has defaults.
type PrepareOptions struct {
	// Dir is the work directory: the kernel is prepared in Dir/<uname -r>.
	// A complete earlier preparation there is reused.
	Dir string
	// Defines are extra spec macros (rpmbuild --define), e.g. {"fips": "0"}.
	Defines map[string]string
	// PatchCommand is GNU patch; "" means "patch" from PATH.
	PatchCommand string
	// CC is the compiler compared with vmlinux's; "" means "gcc".
	CC string
	// SkipCompilerCheck skips the gcc check (kpatch-build --skip-compiler-check).
	SkipCompilerCheck bool
	// CompilerVersionOnly relaxes the check to the gcc version, ignoring the
	// vendor text (a Debian gcc 12.2.0 for a Photon 5.0 kernel).
	CompilerVersionOnly bool
	// XZCommand decompresses .tar.xz sources (the kernel tarball) about ten
	// times faster than the pure-Go decoder; "" means "xz" when it is in
	// PATH. PureGoXZ forces the pure-Go decoder.
	XZCommand string
	PureGoXZ  bool
	// Progress, if set, receives a report as each stage starts, in order
	// and never concurrently, on Prepare's goroutine. Their Detail is a
	// specprep.PrepareEvent.
	Progress klpkit.ProgressFunc
	// BuildUser and BuildAsRoot say who runs GNU patch and xz on the
	// source RPM's files when the caller is root (specprep.PrepOptions):
	// nil is nobody, for a tree this process makes.
	BuildUser   *klpkit.BuildUser
	BuildAsRoot bool
}

// ErrSpecMismatch is returned when the source RPM is not the kernel's.
var ErrSpecMismatch = errors.New("photon: source RPM does not match the kernel")

// preparedMarker is written last, so its presence means the directory is complete.
const preparedMarker = ".klpkit-prepared.json"

// Prepare builds kernel k's patched source tree from its source RPM, as
// rpmbuild -bp would on x86_64, sets up .config for k's flavor and uname,
// and extracts vmlinux from the debuginfo RPM (skipped when debuginfo is "").
//
// Processes preparing one kernel in one Dir take turns (a lock file beside
// the tree), and a complete earlier tree is reused, never rebuilt under a
// process that may be using it. The compiler check runs last: a mismatch
// keeps the prepared tree, for a rerun with another compiler or the check
// skipped.
func Prepare(ctx context.Context, k photon.Kernel, srpm, debuginfo string, opts *PrepareOptions) (*Source, error) {
	if opts == nil || opts.Dir == "" {
		return nil, errors.New("photon: Prepare: PrepareOptions.Dir is not set")
	}
	o := *opts
	// %prep's commands run inside the tree, where a relative Dir
	// (auto_livepatch --work work) names nothing.
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("photon: Prepare: %w", err)
	}
	o.Dir = dir
	if o.PatchCommand == "" {
		o.PatchCommand = "patch"
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	lock := filepath.Join(o.Dir, "."+k.String()+".lock")
	unlock, err := flock.Lock(ctx, lock, 0o644)
	if err != nil {
		return nil, fmt.Errorf("photon: %w", err)
	}
	defer unlock()
	src, err := prepareLocked(ctx, k, srpm, debuginfo, filepath.Join(o.Dir, k.String()), &o)
	if err != nil {
		return nil, err
	}
	if err := checkCompiler(ctx, src, &o); err != nil {
		return nil, err
	}
	emit(&o, specprep.StepDone, src.Dir)
	return src, nil
}

// prepareLocked reuses or completes the tree in final, or prepares it aside
// and renames it into place.
func prepareLocked(ctx context.Context, k photon.Kernel, srpm, debuginfo, final string, o *PrepareOptions) (*Source, error) {
	if src, ok := loadPrepared(final, k); ok {
		switch {
		case debuginfo == "":
			src.Vmlinux = "" // not asked for: no compiler check either
			return src, nil
		case src.Vmlinux == "":
			return addVmlinux(ctx, k, debuginfo, src, o)
		}
		return src, nil
	}
	tmp, err := os.MkdirTemp(filepath.Dir(final), "."+k.String()+".tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp) // gone after the rename on success

	src, err := prepareIn(ctx, k, srpm, debuginfo, tmp, o)
	if err != nil {
		return nil, err
	}
	if err := writeMarker(tmp, src); err != nil {
		return nil, err
	}
	// What is left in final has no valid marker: an interrupted run's.
	if err := os.RemoveAll(final); err != nil {
		return nil, err
	}
	// Never over a directory that appeared at final meanwhile.
	if err := atomicfile.RenameNoReplace(tmp, final); err != nil {
		return nil, err
	}
	return src.relocate(tmp, final), nil
}

// addVmlinux extracts vmlinux into a tree prepared earlier without it.
func addVmlinux(ctx context.Context, k photon.Kernel, debuginfo string, src *Source, o *PrepareOptions) (*Source, error) {
	emit(o, specprep.StepVmlinux, debuginfo)
	tmp, err := os.MkdirTemp(src.Dir, ".debug-tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	vmlinux, err := extractVmlinux(ctx, k, debuginfo, tmp)
	if err != nil {
		return nil, err
	}
	debug := filepath.Join(src.Dir, "debug")
	if err := os.RemoveAll(debug); err != nil {
		return nil, err
	}
	if err := atomicfile.RenameNoReplace(tmp, debug); err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(tmp, vmlinux)
	if err != nil {
		return nil, err
	}
	src.Vmlinux = filepath.Join(debug, rel)
	if err := writeMarker(src.Dir, src); err != nil {
		return nil, err
	}
	return src, nil
}

func (o *PrepareOptions) xzCommand() string {
	switch {
	case o.PureGoXZ:
		return ""
	case o.XZCommand != "":
		return o.XZCommand
	}
	if p, err := exec.LookPath("xz"); err == nil {
		return p
	}
	return ""
}

func emit(o *PrepareOptions, step specprep.PrepareStep, detail string) {
	if o.Progress != nil {
		o.Progress(specprep.PrepareEvent{Step: step, Detail: detail}.Progress())
	}
}

func prepareIn(ctx context.Context, k photon.Kernel, srpm, debuginfo, dir string, o *PrepareOptions) (*Source, error) {
	sources := filepath.Join(dir, "SOURCES")
	build := filepath.Join(dir, "BUILD")
	for _, d := range []string{sources, build} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	emit(o, specprep.StepExtract, srpm)
	if err := extractRPM(ctx, srpm, sources, nil); err != nil {
		return nil, fmt.Errorf("photon: source RPM %s: %w", srpm, err)
	}
	emit(o, specprep.StepSpec, k.Package()+".spec")
	spec, err := readKernelSpec(k, sources, o)
	if err != nil {
		return nil, err
	}
	if err := specprep.Prep(ctx, spec, specprep.PrepOptions{SourceDir: sources, BuildDir: build,
		PatchCommand: o.PatchCommand, XZCommand: o.xzCommand(), Progress: o.Progress,
		BuildUser: o.BuildUser, BuildAsRoot: o.BuildAsRoot}); err != nil {
		return nil, err
	}
	tree := filepath.Join(build, "linux-"+spec.Version)
	if fi, err := os.Stat(tree); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("photon: %s: %%prep did not create linux-%s", spec.File, spec.Version)
	}
	emit(o, specprep.StepConfig, "")
	config, err := installConfig(k, spec, sources, tree, func(step specprep.PrepareStep, detail string) { emit(o, step, detail) })
	if err != nil {
		return nil, err
	}
	src := &Source{Kernel: k, Dir: dir, Tree: tree, Config: config,
		ModuleSymvers: filepath.Join(tree, "Module.symvers"), SpecFile: filepath.Join(sources, filepath.Base(spec.File))}
	if debuginfo != "" {
		emit(o, specprep.StepVmlinux, debuginfo)
		if src.Vmlinux, err = extractVmlinux(ctx, k, debuginfo, filepath.Join(dir, "debug")); err != nil {
			return nil, err
		}
	}
	return src, nil
}

// readKernelSpec finds and parses the kernel's spec and checks that it
// describes kernel k.
func readKernelSpec(k photon.Kernel, sources string, o *PrepareOptions) (*specprep.Spec, error) {
	file := filepath.Join(sources, k.Package()+".spec")
	data, _, err := beneath.ReadTreeFile(sources, filepath.Base(file))
	if errors.Is(err, beneath.ErrEscapes) {
		return nil, fmt.Errorf("photon: source RPM: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s.spec is not in the source RPM: %w", ErrSpecMismatch, k.Package(), err)
	}
	defines := map[string]string{}
	if strings.Contains(string(k.Variant), "kat") {
		defines["kat_build"] = "1"
	}
	if strings.Contains(string(k.Variant), "acvp") {
		defines["acvp_build"] = "1"
	}
	for name, v := range o.Defines {
		defines[name] = v
	}
	spec, err := specprep.ParseSpec(filepath.Base(file), data, specprep.SpecOptions{Arch: "x86_64", Dist: k.Release().DistTag(), Defines: defines, SourceDir: sources})
	if err != nil {
		return nil, err
	}
	if spec.Name != k.Package() || spec.Version != k.Version.String() || spec.Release != k.RPMRelease() {
		return nil, fmt.Errorf("%w: %s describes %s-%s-%s, kernel %s needs %s-%s-%s", ErrSpecMismatch, spec.File,
			spec.Name, spec.Version, spec.Release, k, k.Package(), k.Version, k.RPMRelease())
	}
	return spec, nil
}

// installConfig copies the flavor's config into the tree as .config and
// sets CONFIG_LOCALVERSION, then checks the resulting kernel release. The
// config is read without following links out of sources, and .config gets
// no wider permissions than it had.
func installConfig(k photon.Kernel, spec *specprep.Spec, sources, tree string, emitTo func(specprep.PrepareStep, string)) (string, error) {
	name, err := k.ConfigFile()
	if err != nil {
		return "", err
	}
	data, mode, err := beneath.ReadTreeFile(sources, name)
	if errors.Is(err, beneath.ErrEscapes) {
		return "", fmt.Errorf("photon: %s: config for flavor %s: %w", spec.File, k.Flavor, err)
	}
	if err != nil {
		return "", fmt.Errorf("photon: %s: the source RPM has no config %s for flavor %s (Source1 is %q)", spec.File, name, k.Flavor, spec.Sources[1])
	}
	data, err = specprep.ApplyConfigIncludes(spec, sources, data, emitTo)
	if err != nil {
		return "", err
	}
	data = setConfigString(data, "CONFIG_LOCALVERSION", k.LocalVersion())
	config := filepath.Join(tree, ".config")
	if err := atomicfile.WriteFile(config, data, mode&0o644); err != nil {
		return "", err
	}
	got, err := treeRelease(tree, k)
	if err != nil {
		return "", err
	}
	if got != k.String() {
		return "", fmt.Errorf("photon: prepared tree for %s would build kernel release %s (check the localversion files in %s)", k, got, tree)
	}
	return config, nil
}

// setConfigString sets a string option in a kernel .config, replacing its
// line (set or "is not set") or appending it.
func setConfigString(config []byte, option, value string) []byte {
	want := fmt.Sprintf("%s=%q", option, value)
	lines := strings.Split(string(config), "\n")
	found := false
	for i, l := range lines {
		if strings.HasPrefix(l, option+"=") || l == "# "+option+" is not set" {
			lines[i] = want
			found = true
		}
	}
	out := strings.Join(lines, "\n")
	if !found {
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		out += want + "\n"
	}
	return []byte(out)
}

// treeRelease computes what "make kernelrelease" would print: version, the
// localversion* files in the tree root (sorted), then CONFIG_LOCALVERSION.
// A localversion file that leads out of the tree (a patch can create one as
// a symlink) is an error naming it, never showing what it points at.
func treeRelease(tree string, k photon.Kernel) (string, error) {
	matches, err := filepath.Glob(filepath.Join(tree, "localversion*"))
	if err != nil {
		return "", err
	}
	sort.Strings(matches)
	rel := k.Version.String()
	for _, m := range matches {
		if strings.HasSuffix(m, "~") {
			continue
		}
		data, _, err := beneath.ReadTreeFile(tree, filepath.Base(m))
		if err != nil {
			return "", fmt.Errorf("photon: kernel tree %s: %w", tree, err)
		}
		rel += strings.Join(strings.Fields(string(data)), "")
	}
	return rel + k.LocalVersion(), nil
}

// extractVmlinux pulls the kernel image out of the debuginfo RPM.
func extractVmlinux(ctx context.Context, k photon.Kernel, debuginfo, dest string) (string, error) {
	want := strings.TrimPrefix(k.VmlinuxPath(), "/")
	if err := extractRPM(ctx, debuginfo, dest, func(name string) bool { return name == want }); err != nil {
		return "", fmt.Errorf("photon: debuginfo RPM %s: %w", debuginfo, err)
	}
	p := filepath.Join(dest, filepath.FromSlash(want))
	if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("photon: debuginfo RPM %s has no %s", debuginfo, k.VmlinuxPath())
	}
	return p, nil
}

func checkCompiler(ctx context.Context, src *Source, o *PrepareOptions) error {
	if src.Vmlinux == "" {
		return nil
	}
	emit(o, specprep.StepCompiler, src.Vmlinux)
	if o.SkipCompilerCheck {
		cc, err := ELFCompiler(src.Vmlinux)
		if err == nil {
			src.Compiler = cc
		}
		return nil
	}
	cc, err := CheckCompiler(ctx, src.Vmlinux, o.CC, src.Dir, o.CompilerVersionOnly)
	src.Compiler = cc
	return err
}

// relocate rewrites the paths of a Source prepared in from to live in to.
func (s *Source) relocate(from, to string) *Source {
	c := *s
	for _, p := range []*string{&c.Dir, &c.Tree, &c.Config, &c.Vmlinux, &c.ModuleSymvers, &c.SpecFile} {
		if rel, ok := strings.CutPrefix(*p, from); ok {
			*p = to + rel
		}
	}
	return &c
}

type marker struct {
	Kernel  string `json:"kernel"`
	Tree    string `json:"tree"`
	Vmlinux string `json:"vmlinux"`
	Spec    string `json:"spec"`
}

func writeMarker(dir string, s *Source) error {
	rel := func(p string) string {
		if p == "" {
			return ""
		}
		r, _ := filepath.Rel(dir, p)
		return r
	}
	data, err := json.Marshal(marker{Kernel: s.Kernel.String(), Tree: rel(s.Tree), Vmlinux: rel(s.Vmlinux), Spec: rel(s.SpecFile)})
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, preparedMarker), data, 0o644)
}

// loadPrepared returns the Source of a complete earlier Prepare in dir.
func loadPrepared(dir string, k photon.Kernel) (*Source, bool) {
	data, err := os.ReadFile(filepath.Join(dir, preparedMarker))
	if err != nil {
		return nil, false
	}
	var m marker
	if json.Unmarshal(data, &m) != nil || m.Kernel != k.String() || m.Tree == "" || !isCleanRelative(filepath.ToSlash(m.Tree)) {
		return nil, false
	}
	s := &Source{Kernel: k, Dir: dir, Tree: filepath.Join(dir, m.Tree)}
	s.Config = filepath.Join(s.Tree, ".config")
	s.ModuleSymvers = filepath.Join(s.Tree, "Module.symvers")
	if m.Spec != "" {
		s.SpecFile = filepath.Join(dir, m.Spec)
	}
	if m.Vmlinux != "" {
		if !isCleanRelative(filepath.ToSlash(m.Vmlinux)) {
			return nil, false
		}
		s.Vmlinux = filepath.Join(dir, m.Vmlinux)
	}
	if _, err := os.Stat(s.Config); err != nil {
		return nil, false
	}
	return s, true
}

// Prepare fetches kernel k's source and debuginfo RPMs and prepares them
// (see the package-level Prepare).
func (r *Repo) Prepare(ctx context.Context, k photon.Kernel, opts *PrepareOptions) (*Source, error) {
	srpm, err := r.Fetch(ctx, k, SourcePackage)
	if err != nil {
		return nil, err
	}
	debuginfo, err := r.Fetch(ctx, k, DebuginfoPackage)
	if err != nil {
		return nil, err
	}
	return Prepare(ctx, k, srpm, debuginfo, opts)
}
