// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/asuser"
)

// ToolchainMode says where Run's compile and link steps run (Toolchain).
type ToolchainMode string

// The toolchain modes.
const (
	// ToolchainHost runs the host's programs, as kpatch-build does: the
	// compiler check compares the host's compiler with the kernel's
	// (SkipCompilerCheck skips it). The zero Mode means this.
	ToolchainHost ToolchainMode = "host"
	// ToolchainAuto runs on the host when the host's compiler is the
	// kernel's, and otherwise in a toolchain root provisioned with the
	// kernel's compiler from its distribution's archive (Debian kernels:
	// the gcc vmlinux's .comment names, from the suite that shipped it;
	// a source with Capabilities.Toolchain, such as a Photon kernel's,
	// provisions its own). With SkipCompilerCheck it is ToolchainHost.
	ToolchainAuto ToolchainMode = "auto"
	// ToolchainRoot runs in the existing root Toolchain.Dir.
	ToolchainRoot ToolchainMode = "root"
)

// Toolchain chooses the compiler, binutils and make that build the
// livepatch (Options.Toolchain). Inside a toolchain root (a directory
// holding a distribution's compiler and build tools, such as
// build/toolchain provisions) kbuild's make, the compiler, objtool,
// genksyms and the module's link run chrooted in a private mount
// namespace, with the kernel tree, the kbuild tree (and the directories
// its links and Makefile lead to) and the work directory mounted at their
// own paths; as the build user when the caller is root. Running inside a
// root needs root privileges.
type Toolchain struct {
	// Mode is ToolchainHost ("" too), ToolchainAuto or ToolchainRoot.
	Mode ToolchainMode
	// Dir is ToolchainRoot's root directory.
	Dir string
	// CacheDir keeps the roots (and the archive's indexes) ToolchainAuto
	// provisions; "" means <user cache directory>/klpkit/toolchain.
	CacheDir string
	// Keyring is the file of OpenPGP keys the archive's indexes must be
	// signed with; "" means toolchain.DebianKeyring.
	Keyring string
	// Client downloads; nil means http.DefaultClient.
	Client *http.Client
}

// Cache is the directory roots are provisioned under: CacheDir, or
// <user cache directory>/klpkit/toolchain.
func (t Toolchain) Cache() (string, error) {
	if t.CacheDir != "" {
		return t.CacheDir, nil
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("build: toolchain cache: %w", err)
	}
	return filepath.Join(dir, "klpkit", "toolchain"), nil
}

// ParseToolchain reads the CLIs' --toolchain: "auto", "host", or the
// directory of an existing toolchain root.
func ParseToolchain(s string) (Toolchain, error) {
	switch s {
	case "auto":
		return Toolchain{Mode: ToolchainAuto}, nil
	case "host", "":
		return Toolchain{Mode: ToolchainHost}, nil
	}
	abs, err := filepath.Abs(s)
	if err != nil {
		return Toolchain{}, fmt.Errorf("--toolchain %q: %w", s, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return Toolchain{}, fmt.Errorf("--toolchain %q: want auto, host or a toolchain root directory: %w", s, err)
	}
	if !st.IsDir() {
		return Toolchain{}, fmt.Errorf("--toolchain %q: want auto, host or a toolchain root directory: not a directory", s)
	}
	return Toolchain{Mode: ToolchainRoot, Dir: abs}, nil
}

// ErrToolchainUnavailable means ToolchainAuto found the host's compiler
// differing from the kernel's and cannot provide the kernel's: the error
// says what is missing. It comes with ErrCompilerMismatch.
var ErrToolchainUnavailable = errors.New("the kernel's toolchain cannot be provided")

// debianSuites are the Debian releases whose kernels a root can be
// provisioned for, by the major version of the gcc that built them.
var debianSuites = map[string]func() []toolchain.Suite{
	"10": toolchain.Bullseye,
	"12": toolchain.Bookworm,
}

// rootEnv runs the tree's programs inside a toolchain root; a nil
// *rootEnv runs them on the host.
type rootEnv struct {
	root  *toolchain.Root
	binds []string
}

// setupToolchain chooses where the tree's programs run (Options.Toolchain)
// and, for a root, what is bound into it; c is the kernel's config.
func (r *runner) setupToolchain(ctx context.Context, c kconfig) error {
	tc := r.opts.Toolchain
	switch tc.Mode {
	case "", ToolchainHost:
		return nil
	case ToolchainRoot:
		if tc.Dir == "" {
			return fmt.Errorf("build: %w: Toolchain.Mode is root and Toolchain.Dir is empty", ErrBadOptions)
		}
		if st, err := os.Stat(tc.Dir); err != nil || !st.IsDir() {
			return fmt.Errorf("build: %w: toolchain root %s is not a directory", ErrBadOptions, tc.Dir)
		}
		return r.useRoot(&toolchain.Root{Dir: tc.Dir})
	case ToolchainAuto:
	default:
		return fmt.Errorf("build: %w: Toolchain.Mode %q (want host, auto or root)", ErrBadOptions, tc.Mode)
	}
	if r.opts.SkipCompilerCheck {
		return nil
	}
	want, err := kernelCompiler(r.tree.Vmlinux, c)
	if err != nil {
		return err
	}
	if got, err := localCompiler(ctx, r.tree.compiler()); err == nil && got == want {
		r.event(StageCheck, 0, 1, "the host's compiler is the kernel's (%s): building on the host", got)
		return nil
	}
	root, err := r.provisionRoot(ctx, want)
	if err != nil {
		return err
	}
	if root == nil {
		return nil // a dry run's root the cache lacks: only planned
	}
	return r.useRoot(root)
}

// provisionRoot provides a root holding the compiler the kernel's
// identification want names. A dry run (Check) provisions nothing: it
// resolves the root's packages, records them (Plan.Toolchain) and returns
// the root only when the cache holds it, else nil.
func (r *runner) provisionRoot(ctx context.Context, want string) (*toolchain.Root, error) {
	host, err := versionLine(ctx, r.tree.compiler())
	if err != nil {
		host = "unusable (" + err.Error() + ")"
	}
	tc := r.opts.Toolchain
	cache, err := tc.Cache()
	if err != nil {
		return nil, err
	}
	var provide func(context.Context, string, string) (*toolchain.Root, error)
	if r.opts.Source != nil {
		provide = r.opts.Source.Capabilities().Toolchain
	}
	if provide != nil {
		// The source knows where its kernel's compiler comes from.
		if !asuser.IsRoot() {
			return nil, fmt.Errorf("kernel %s was built with %q, the host's %s is %q: %w; %w: a toolchain root needs root privileges (mount namespace and chroot): %w",
				r.tree.Release, want, r.tree.compiler(), host, ErrCompilerMismatch, ErrToolchainUnavailable, toolchain.ErrNeedsRoot)
		}
		var root *toolchain.Root
		if r.dryRun {
			r.event(StageCheck, 0, 1, "kernel built with %q, the host's %s is %q: looking up its root in the kernel's repositories", want, r.tree.compiler(), host)
			root, err = r.planFromSource(ctx, want, cache)
		} else {
			r.event(StageCheck, 0, 1, "kernel built with %q, the host's %s is %q: provisioning it from the kernel's repositories", want, r.tree.compiler(), host)
			root, err = provide(ctx, want, cache)
		}
		if err != nil {
			return nil, fmt.Errorf("kernel %s was built with %q, the host's %s is %q: %w; %w: %w",
				r.tree.Release, want, r.tree.compiler(), host, ErrCompilerMismatch, ErrToolchainUnavailable, err)
		}
		return root, nil
	}
	gcc, err := toolchain.DebianCompiler(want)
	if err != nil {
		return nil, fmt.Errorf("kernel %s was built with %q and the host's %s is %q: %w; %w: only Debian kernels' compilers, and those of kernels whose source provides them (a Photon kernel from its repositories), are provisioned: install that compiler on the host, give a toolchain root that holds it (--toolchain DIR), or build with the host's compiler (--toolchain host --skip-compiler-check)",
			r.tree.Release, want, r.tree.compiler(), host, ErrCompilerMismatch, ErrToolchainUnavailable)
	}
	major := strings.TrimPrefix(strings.SplitN(gcc, "=", 2)[0], "gcc-")
	suites, ok := debianSuites[major]
	if !ok {
		return nil, fmt.Errorf("kernel %s was built with %q (%s), the host's %s is %q: %w; %w: no Debian suite of this gcc is known (bullseye's gcc-10 and bookworm's gcc-12 are): give a toolchain root that holds it (--toolchain DIR)",
			r.tree.Release, want, gcc, r.tree.compiler(), host, ErrCompilerMismatch, ErrToolchainUnavailable)
	}
	if !asuser.IsRoot() {
		return nil, fmt.Errorf("kernel %s was built with %q, the host's %s is %q: %w; %w: a toolchain root with %s needs root privileges (mount namespace and chroot): %w",
			r.tree.Release, want, r.tree.compiler(), host, ErrCompilerMismatch, ErrToolchainUnavailable, gcc, toolchain.ErrNeedsRoot)
	}
	keyring := tc.Keyring
	if keyring == "" {
		keyring = toolchain.DebianKeyring
	}
	keys, err := os.ReadFile(keyring)
	if err != nil {
		return nil, fmt.Errorf("build: toolchain: the Debian archive's keys (package debian-archive-keyring): %w", err)
	}
	ring, err := toolchain.ReadKeyring(keys)
	if err != nil {
		return nil, fmt.Errorf("build: toolchain: keyring %s: %w", keyring, err)
	}
	verb := "provisioning"
	if r.dryRun {
		verb = "looking up"
	}
	r.event(StageCheck, 0, 1, "kernel built with %q, the host's %s is %q: %s %s in Debian's archive", want, r.tree.compiler(), host, verb, gcc)
	d := &toolchain.Debian{Suites: suites(), Keyring: ring, Client: tc.Client, IndexCache: filepath.Join(cache, "index")}
	list, err := d.Resolve(ctx, toolchain.DebianKernelBuild(gcc))
	if err != nil {
		return nil, fmt.Errorf("build: toolchain for kernel %s (%s): %w", r.tree.Release, gcc, err)
	}
	if r.dryRun {
		return r.planDebian(want, d.Suites, list, cache), nil
	}
	root, err := (&toolchain.Cache{Dir: filepath.Join(cache, "roots"), Client: tc.Client, Log: r.log}).Provision(ctx, list)
	if err != nil {
		return nil, fmt.Errorf("build: toolchain for kernel %s (%s): %w", r.tree.Release, gcc, err)
	}
	return root, nil
}

// useRoot runs the tree's programs in root from now on.
func (r *runner) useRoot(root *toolchain.Root) error {
	if !asuser.IsRoot() {
		return fmt.Errorf("build: toolchain root %s: %w", root.Dir, toolchain.ErrNeedsRoot)
	}
	binds, err := rootBinds(r.tree.Dir, r.tree.KbuildDir, r.work)
	if err != nil {
		return fmt.Errorf("build: toolchain root %s: %w", root.Dir, err)
	}
	r.root = &rootEnv{root: root, binds: binds}
	r.log.Info("the tree's programs run in a toolchain root", "root", root.Dir, "binds", binds)
	r.event(StageCheck, 0, 1, "building in toolchain root %s", root.Dir)
	return nil
}

// rootBinds returns the host directories a build inside a root needs at
// their own paths: each of dirs (resolved), the directories their
// top-level links lead to (Debian's headers link scripts/ and tools/ into
// linux-kbuild) and those their Makefile includes by absolute path
// (Debian's -amd64 headers include -common's), none inside another.
func rootBinds(dirs ...string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	var add func(dir string, depth int) error
	add = func(dir string, depth int) error {
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return err
		}
		if seen[real] {
			return nil
		}
		seen[real] = true
		out = append(out, real)
		if depth > 2 {
			return nil
		}
		entries, err := os.ReadDir(real)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Type()&os.ModeSymlink == 0 {
				continue
			}
			target, err := filepath.EvalSymlinks(filepath.Join(real, e.Name()))
			if err != nil {
				continue // a dangling link: nothing to bind
			}
			if st, err := os.Stat(target); err == nil && st.IsDir() {
				if err := add(target, depth+1); err != nil {
					return err
				}
			}
		}
		for _, inc := range makefileIncludes(filepath.Join(real, "Makefile")) {
			if err := add(filepath.Dir(inc), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if err := add(d, 0); err != nil {
			return nil, err
		}
	}
	// Shorter first: a directory inside another is bound with it.
	slices.SortFunc(out, func(a, b string) int { return len(a) - len(b) })
	var binds []string
	for _, d := range out {
		if d == "/" {
			return nil, errors.New("the tree or a directory it leads to is /: it cannot be bound into a root")
		}
		if !slices.ContainsFunc(binds, func(b string) bool { return strings.HasPrefix(d, b+"/") || d == b }) {
			binds = append(binds, d)
		}
	}
	slices.Sort(binds)
	return binds, nil
}

// makefileIncludes returns the absolute paths a Makefile's top-level
// "include /..." lines name; none when it has no Makefile.
func makefileIncludes(makefile string) []string {
	f, err := os.Open(makefile)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 0; sc.Scan() && n < 100; n++ { // Debian's is one line
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && fields[0] == "include" && filepath.IsAbs(fields[1]) {
			if _, err := os.Stat(fields[1]); err == nil {
				out = append(out, fields[1])
			}
		}
	}
	return out
}

// setup prepares cmd to run in dir as u (asuser.Setup on the host). In a
// root, a program named without a directory is found in the root's PATH,
// the root's PATH replaces the host's, and dir is reached by its path
// inside the root: the binds are there, and the root's directories above
// them let every user through.
func (e *rootEnv) setup(cmd *exec.Cmd, u *asuser.User, dir string) (func(), error) {
	if e == nil {
		return asuser.Setup(cmd, u, dir)
	}
	if name := cmd.Args[0]; !strings.Contains(name, "/") || filepath.IsAbs(name) {
		p, err := e.root.LookPath(name)
		if err != nil {
			return nil, err
		}
		cmd.Path, cmd.Err = p, nil
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = toolchain.Environ(env)
	if dir != "" {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real // the binds are the real paths
		}
	}
	cmd.Dir = dir
	if u != nil {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: u.UID, Gid: u.GID}
	}
	return func() {}, nil
}

// path returns dir as commands reach it: in a root by its real path (the
// binds are real paths), on the host as it is.
func (e *rootEnv) path(dir string) string {
	if e != nil {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return real
		}
	}
	return dir
}

// start starts cmd, in the root when there is one.
func (e *rootEnv) start(cmd *exec.Cmd) error {
	if e == nil {
		return cmd.Start()
	}
	return e.root.Start(cmd, e.binds)
}

// run runs cmd to its end, in the root when there is one.
func (e *rootEnv) run(cmd *exec.Cmd) error {
	if err := e.start(cmd); err != nil {
		return err
	}
	return cmd.Wait()
}

// versionLine is versionLine for the compiler of the root, or of the host.
func (e *rootEnv) versionLine(ctx context.Context, cc string) (string, error) {
	if e == nil {
		return versionLine(ctx, cc)
	}
	prog, err := compilerProgram(cc)
	if err != nil {
		return "", fmt.Errorf("compiler check: %w", err)
	}
	line, err := e.root.VersionLine(ctx, prog)
	if err != nil {
		return "", fmt.Errorf("compiler check: %w", err)
	}
	return line, nil
}

// String names where the programs run, for messages.
func (e *rootEnv) String() string {
	if e == nil {
		return "the host"
	}
	return "toolchain root " + strconv.Quote(e.root.Dir)
}
