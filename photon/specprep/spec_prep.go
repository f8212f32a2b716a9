// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/beneath"
)

// prepRunner executes a spec's %prep lines the way rpmbuild -bp would, for
// the subset of commands Photon's kernel specs use.
type prepRunner struct {
	ctx       context.Context
	spec      *Spec
	sourceDir string // the SRPM's files (rpmbuild's SOURCES)
	buildDir  string // rpmbuild's BUILD: every path must stay under it
	cwd       string
	stack     []string // pushd
	patchCmd  string
	xzCmd     string // external xz for .tar.xz, "" = pure Go
	// applyPatchHelper is set once %prep includes Photon's ApplyPatch.inc helper.
	applyPatchHelper bool
	progress         klpkit.ProgressFunc
	// as runs GNU patch and xz (nil: this process); dirsGiven: every
	// directory of buildDir is as's (prep_user.go).
	as        *asuser.User
	dirsGiven bool
}

func (r *prepRunner) run() error {
	r.cwd = r.buildDir
	var ifs []shellIf
	for _, l := range r.spec.Prep {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		if handled, err := shellConditional(l, &ifs); handled || err != nil {
			if err != nil {
				return r.fail(l, "%v", err)
			}
			continue
		}
		if !shellActive(ifs) {
			continue
		}
		if err := r.exec(l); err != nil {
			return err
		}
	}
	if len(ifs) > 0 {
		return r.fail(r.spec.Prep[len(r.spec.Prep)-1], "shell if without fi at the end of %%prep")
	}
	return nil
}

func (r *prepRunner) fail(l SpecLine, format string, args ...any) error {
	return &SpecError{File: r.spec.File, Line: l.Line, Text: l.Text, Reason: fmt.Sprintf(format, args...)}
}

func (r *prepRunner) exec(l SpecLine) error {
	if m := patchRedirectRE.FindStringSubmatch(l.Text); m != nil {
		// patch -pN < FILE: Photon applies the FIPS canister's binary patches this way.
		return r.patchFromFile(l, m[1], m[2])
	}
	if strings.Contains(l.Text, "$") {
		// ${PWD} is the only shell variable Photon's %prep uses.
		l.Text = strings.NewReplacer("${PWD}", r.cwd, "$PWD", r.cwd).Replace(l.Text)
	}
	if m := sedRedirectRE.FindStringSubmatch(l.Text); m != nil {
		// sed -e ... IN > OUT: Photon 5.0 fills in linux-sbat.csv this way.
		return r.sedToFile(l, m[1], m[2])
	}
	args, err := shellWords(l.Text)
	if err != nil {
		return r.fail(l, "%v", err)
	}
	if len(args) == 0 {
		return nil
	}
	cmd := args[0]
	if cmd == "%setup" || cmd == "cp" || cmd == "mkdir" {
		r.dirsGiven = false // they may make directories, as this process
	}
	switch {
	case cmd == "%setup":
		return r.setup(l, args[1:])
	case cmd == "%autopatch":
		return r.autopatch(l, args[1:])
	case cmd == "%patch" || strings.HasPrefix(cmd, "%patch") && isDigits(cmd[len("%patch"):]):
		return r.patchDirective(l, cmd, args[1:])
	case cmd == "pushd" && len(args) == 2:
		dir, err := r.inside(l, args[1])
		if err != nil {
			return err
		}
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return r.fail(l, "pushd: %s is not a directory", args[1])
		}
		r.stack = append(r.stack, r.cwd)
		r.cwd = dir
		return nil
	case cmd == "popd" && len(args) == 1:
		if len(r.stack) == 0 {
			return r.fail(l, "popd with an empty directory stack")
		}
		r.cwd = r.stack[len(r.stack)-1]
		r.stack = r.stack[:len(r.stack)-1]
		return nil
	case cmd == "cd" && len(args) == 2:
		dir, err := r.inside(l, args[1])
		if err != nil {
			return err
		}
		r.cwd = dir
		return nil
	case cmd == "make":
		return r.make(l, args[1:])
	case cmd == "cp":
		return r.copy(l, args[1:])
	case cmd == "sed":
		return r.sed(l, args[1:])
	case cmd == "mkdir":
		return r.mkdir(l, args[1:])
	case cmd == "%include" && len(args) == 2:
		return r.include(l, args[1])
	case cmd == "ApplyPatch" && r.applyPatchHelper:
		return r.applyPatchRange(l, args[1:])
	}
	if strings.HasPrefix(cmd, "%") {
		return r.fail(l, "directive %s is not supported in %%prep", cmd)
	}
	return r.fail(l, "command %q is not supported in %%prep", cmd)
}

// inside resolves p against cwd and requires it to stay under the build or
// source directory, both as written and with the symlinks on its way
// followed (a tarball or a "cp -r" can leave a link that points out).
func (r *prepRunner) inside(l SpecLine, p string) (string, error) {
	if !filepath.IsAbs(p) {
		p = filepath.Join(r.cwd, p)
	}
	p = filepath.Clean(p)
	if !underRoot(p, r.buildDir, r.sourceDir) {
		return "", r.fail(l, "path %s leaves the build directory", p)
	}
	real, err := resolveExisting(p)
	if err != nil {
		return "", r.fail(l, "%v", err)
	}
	build, err1 := filepath.EvalSymlinks(r.buildDir)
	sources, err2 := filepath.EvalSymlinks(r.sourceDir)
	if err1 != nil || err2 != nil || !underRoot(real, build, sources) {
		return "", r.fail(l, "path %s leads through a symlink to %s, outside the build directory", p, real)
	}
	return p, nil
}

// underRoot reports whether the clean path p is one of roots or below one.
func underRoot(p string, roots ...string) bool {
	for _, root := range roots {
		if p == root || strings.HasPrefix(p, root+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// resolveExisting follows the symlinks of the longest existing prefix of
// the clean absolute path p and appends the rest unchanged.
func resolveExisting(p string) (string, error) {
	rest := ""
	for cur := p; ; cur = filepath.Dir(cur) {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !os.IsNotExist(err) {
			return "", err
		}
		if _, lerr := os.Lstat(cur); lerr == nil {
			// A dangling symlink: writing to it would create its target.
			return "", fmt.Errorf("%s is a symlink to a missing file", cur)
		}
		if filepath.Dir(cur) == cur {
			return "", err
		}
		rest = filepath.Join(filepath.Base(cur), rest)
	}
}

// setup implements %setup [-q] [-n name] [-T] [-D] [-c] [-b N] [-a N].
func (r *prepRunner) setup(l SpecLine, args []string) error {
	name := r.spec.Name + "-" + r.spec.Version
	var noDefault, noDelete, create bool
	var before, after []int
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch a {
		case "-q":
		case "-T":
			noDefault = true
		case "-D":
			noDelete = true
		case "-c":
			create = true
		case "-n", "-b", "-a":
			if i+1 >= len(args) {
				return r.fail(l, "%%setup %s needs a value", a)
			}
			i++
			if a == "-n" {
				name = args[i]
				continue
			}
			n, err := strconv.Atoi(args[i])
			if err != nil {
				return r.fail(l, "%%setup %s %q: not a source number", a, args[i])
			}
			if a == "-b" {
				before = append(before, n)
			} else {
				after = append(after, n)
			}
		default:
			return r.fail(l, "%%setup option %q is not supported", a)
		}
	}
	if name == "" || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
		return r.fail(l, "%%setup -n %q is not a plain directory name", name)
	}
	dir := filepath.Join(r.buildDir, name)
	if !noDelete {
		if err := os.RemoveAll(dir); err != nil {
			return r.fail(l, "%%setup: %v", err)
		}
	}
	unpackIn := r.buildDir
	if create {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return r.fail(l, "%%setup -c: %v", err)
		}
		unpackIn = dir
	}
	if !noDefault {
		if err := r.unpack(l, 0, unpackIn); err != nil {
			return err
		}
	}
	for _, n := range before {
		if err := r.unpack(l, n, r.buildDir); err != nil {
			return err
		}
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return r.fail(l, "%%setup: source did not unpack to %s", name)
	}
	r.cwd = dir
	for _, n := range after {
		if err := r.unpack(l, n, dir); err != nil {
			return err
		}
	}
	return nil
}

func (r *prepRunner) unpack(l SpecLine, n int, into string) error {
	file, ok := r.spec.Sources[n]
	if !ok {
		return r.fail(l, "Source%d is not defined", n)
	}
	r.emit(PrepareEvent{Step: StepUnpack, Detail: file})
	if err := unpackFrom(r.ctx, r.sourceDir, file, into, r.xzCmd, r.as); err != nil {
		return r.fail(l, "unpacking Source%d: %v", n, err)
	}
	return nil
}

func (r *prepRunner) emit(ev PrepareEvent) {
	if r.progress != nil {
		r.progress(ev.Progress())
	}
}

// patchOptions are the options %patch and %autopatch share.
type patchOptions struct {
	strip   int
	reverse bool
	fuzz    int
}

// patchFlags says which options a directive takes.
type patchFlags struct {
	switches string // letters of the options without a value
	numbers  string // letters of the options that take a number
	bare     byte   // the option a bare number stands for (0: none)
}

// parsePatchFlags parses the options of %patch or %autopatch (directive):
// "-X", "-XN" and "-X N". It calls set with each option's letter and its
// number, -1 for a switch, and fails on options flags does not name.
func (r *prepRunner) parsePatchFlags(l SpecLine, directive string, args []string, flags patchFlags, set func(flag byte, n int)) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		flag, val := a, ""
		if len(a) > 2 && strings.HasPrefix(a, "-") {
			flag, val = a[:2], a[2:]
		}
		takes := func(letters string) bool {
			return len(flag) == 2 && flag[0] == '-' && strings.IndexByte(letters, flag[1]) >= 0
		}
		switch {
		case val == "" && takes(flags.switches):
			set(flag[1], -1)
			continue
		case takes(flags.numbers):
		case flags.bare != 0 && !strings.HasPrefix(a, "-"):
			flag, val = "-"+string(flags.bare), a
		default:
			return r.fail(l, "%s option %q is not supported", directive, a)
		}
		if val == "" {
			if i+1 >= len(args) {
				return r.fail(l, "%s %s needs a value", directive, flag)
			}
			i++
			val = args[i]
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return r.fail(l, "%s %s %q: not a number", directive, flag, val)
		}
		set(flag[1], n)
	}
	return nil
}

// autopatch implements %autopatch [-p N] [-m N] [-M N] [-v] [-q].
func (r *prepRunner) autopatch(l SpecLine, args []string) error {
	opts := patchOptions{}
	lo, hi := 0, int(^uint(0)>>1)
	err := r.parsePatchFlags(l, "%autopatch", args, patchFlags{switches: "vq", numbers: "pmM"}, func(flag byte, n int) {
		switch flag {
		case 'p':
			opts.strip = n
		case 'm':
			lo = n
		case 'M':
			hi = n
		}
	})
	if err != nil {
		return err
	}
	var nums []int
	for n := range r.spec.Patches {
		if n >= lo && n <= hi {
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	for _, n := range nums {
		if err := r.applyPatch(l, n, opts); err != nil {
			return err
		}
	}
	return nil
}

// patchDirective implements %patchN [-p N] [-R] [-F N] and %patch [-P] N.
func (r *prepRunner) patchDirective(l SpecLine, cmd string, args []string) error {
	opts := patchOptions{}
	var nums []int
	flags := patchFlags{switches: "RsE", numbers: "pPF"}
	if cmd != "%patch" {
		n, _ := strconv.Atoi(cmd[len("%patch"):])
		nums = append(nums, n)
	} else {
		flags.bare = 'P'
	}
	err := r.parsePatchFlags(l, "%patch", args, flags, func(flag byte, n int) {
		switch flag {
		case 'R':
			opts.reverse = true
		case 'p':
			opts.strip = n
		case 'F':
			opts.fuzz = n
		case 'P':
			nums = append(nums, n)
		}
	})
	if err != nil {
		return err
	}
	if len(nums) == 0 {
		return r.fail(l, "%%patch without a patch number")
	}
	for _, n := range nums {
		if err := r.applyPatch(l, n, opts); err != nil {
			return err
		}
	}
	return nil
}

var patchRedirectRE = regexp.MustCompile(`^patch\s+-p(\d+)\s*<\s*(\S+)$`)

// patchFromFile implements "patch -pN < FILE" for a file of the source RPM
// (GNU patch's default fuzz then is 2, as the spec's shell would run it).
func (r *prepRunner) patchFromFile(l SpecLine, strip, file string) error {
	src, err := r.inside(l, file)
	if err != nil {
		return err
	}
	if filepath.Dir(src) != r.sourceDir {
		return r.fail(l, "patch input %s is not a file of the source RPM", file)
	}
	n, _ := strconv.Atoi(strip)
	return r.runPatch(l, -1, filepath.Base(src), patchOptions{strip: n, fuzz: 2})
}

// applyPatch runs GNU patch as rpmbuild does (fuzz 0, no backup files).
func (r *prepRunner) applyPatch(l SpecLine, n int, opts patchOptions) error {
	file, ok := r.spec.Patches[n]
	if !ok {
		return r.fail(l, "Patch%d is not defined", n)
	}
	return r.runPatch(l, n, file, opts)
}

func (r *prepRunner) runPatch(l SpecLine, n int, file string, opts patchOptions) error {
	// patch reads the file from stdin, opened here without following
	// links out of the source directory.
	in, err := beneath.Open(r.sourceDir, file)
	if err != nil {
		return r.fail(l, "patch %s is not in the source RPM: %v", file, err)
	}
	defer in.Close()
	r.emit(PrepareEvent{Step: StepPatch, Detail: file})
	args := []string{"-p" + strconv.Itoa(opts.strip), "--fuzz=" + strconv.Itoa(opts.fuzz),
		"--no-backup-if-mismatch", "--batch", "--forward", "-s"}
	if opts.reverse {
		args = append(args, "-R")
	}
	cmd := exec.CommandContext(r.ctx, r.patchCmd, args...)
	cmd.Stdin = in
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done, err := r.setupPatch(cmd)
	if err != nil {
		return r.fail(l, "patch %s: %v", file, err)
	}
	err = cmd.Run()
	done()
	if err != nil {
		return &PatchError{Patch: file, Number: n, Dir: r.cwd, Output: strings.TrimSpace(out.String()), Err: err}
	}
	return nil
}

// PatchError reports a Photon patch that did not apply.
type PatchError struct {
	Patch  string `json:"patch"`
	Number int    `json:"number"` // -1 for a "patch < FILE" command
	Dir    string `json:"dir"`
	Output string `json:"output"`
	Err    error  `json:"err"`
}

func (e *PatchError) Error() string {
	what := fmt.Sprintf("Patch%d (%s)", e.Number, e.Patch)
	if e.Number < 0 {
		what = "patch " + e.Patch
	}
	return fmt.Sprintf("photon: %s does not apply in %s: %v: %s", what, e.Dir, e.Err, e.Output)
}

func (e *PatchError) Unwrap() error { return e.Err }

// make supports only "make [-jN|-s|V=n] mrproper", which on a fresh tree
// removes the configuration files.
func (r *prepRunner) make(l SpecLine, args []string) error {
	targets := 0
	for _, a := range args {
		switch {
		case a == "mrproper":
			targets++
		case strings.HasPrefix(a, "-j") || a == "-s" || strings.HasPrefix(a, "V="):
		default:
			return r.fail(l, "only \"make mrproper\" is supported in %%prep")
		}
	}
	if targets != 1 {
		return r.fail(l, "only \"make mrproper\" is supported in %%prep")
	}
	for _, f := range []string{".config", ".config.old", "Module.symvers"} {
		if err := os.Remove(filepath.Join(r.cwd, f)); err != nil && !os.IsNotExist(err) {
			return r.fail(l, "make mrproper: %v", err)
		}
	}
	return nil
}

// shellWords splits a command line on blanks, honouring single and double
// quotes, and refuses shell syntax the interpreter does not model.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated quote")
			}
			q := s[i+1 : i+1+j]
			if c == '"' && strings.ContainsAny(q, "$`\\") {
				return nil, fmt.Errorf("shell expansion inside double quotes is not supported")
			}
			cur.WriteString(q)
			inWord = true
			i += j + 1
		case strings.IndexByte("$`;&|<>(){}*?[]~\\", c) >= 0:
			return nil, fmt.Errorf("shell syntax %q is not supported", string(c))
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
