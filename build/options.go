// SPDX-License-Identifier: Apache-2.0

package build

import (
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/klpkit/klpkit"
)

// Options configure Run and Check. Source, Patches and OutputDir are
// required; every other zero value means kpatch-build's default.
//
// kpatch-build and auto_livepatch map onto it like this: -s/-c/-v and the
// kernel release give the Tree; the patch arguments (-p) are Patches; -n is
// Name; -o is OutputDir (the working directory when not given); -R is
// NoReplace; a description file's text (kpatch-build --description,
// auto_livepatch -d) is Description; -j is Jobs; --skip-compiler-check is
// SkipCompilerCheck; -d/--debug and --skip-cleanup are KeepWork;
// --export-debuginfo is DebugDir; --fuzz is Fuzz; --sign-key, --sign-cert
// and --sign-hash make Signer (modsign.LoadSigner); kpatch-build's
// --oot-module and --oot-module-src make OOTModule.
type Options struct {
	// Source yields the kernel tree to build against; a *Tree is a Source.
	Source Source
	// Patches are patch files, applied in order (several are combined into
	// one module).
	Patches []string
	// Name is the module name (kpatch-build -n); default from the patch
	// names (livepatch.ModuleName). A trailing ".ko" is dropped.
	Name string
	// OutputDir receives <Name>.ko (created if missing). Required: a
	// library has no business writing to the working directory unasked
	// (the CLIs pass theirs).
	OutputDir string
	// NoReplace builds a module that stacks on earlier livepatches instead
	// of atomically replacing them (kpatch-build -R). Kernels before 5.1
	// (Photon 3.0) have no atomic replace: Run refuses a replace build for
	// them with ErrReplaceUnsupported before compiling anything.
	NoReplace bool
	// Description becomes MODULE_DESCRIPTION.
	Description string
	// Jobs is how many objects compile at once; default the CPU count.
	Jobs int
	// SkipCompilerCheck skips the check that the compiler is the one the
	// kernel was built with.
	SkipCompilerCheck bool
	// Toolchain chooses where the compile and link steps run: on the host
	// (the zero value, as kpatch-build), in a toolchain root holding the
	// kernel's own compiler, binutils and make (ToolchainRoot), or in one
	// provisioned from the kernel's distribution when the host's compiler
	// is not the kernel's (ToolchainAuto; the CLIs' default, --toolchain).
	// The compiler check then runs the root's compiler. See Toolchain.
	Toolchain Toolchain
	// PartialHeaderUsers accepts, for a changed header in a tree that is not
	// fully built, patching only the objects already built there (with a
	// warning). By default Run refuses: the objects never built that include
	// the header would keep the old code, and the patch would be half
	// applied. A Source that can build in full (Capabilities.BuildAll) is
	// built in full instead.
	PartialHeaderUsers bool
	// MaxHeaderUsers is how many translation units a changed header may
	// have; more is refused before compiling (HeaderUsersError). 0 means
	// DefaultMaxHeaderUsers; negative, no limit.
	MaxHeaderUsers int
	// Fuzz lets a hunk apply with up to Fuzz lines of its leading and
	// trailing context differing from the tree (livepatch.ApplyOptions.Fuzz,
	// GNU patch -F); 0 requires exact context. Each fuzzed or moved hunk is
	// reported in Result.Warnings and a StagePatch event.
	Fuzz int
	// CacheDir keeps original objects between runs, keyed by kernel,
	// config, compiler, command line and source contents, and the kbuild
	// commands that link a module (klp.LinkOptions.RecipeDir). "" disables it.
	CacheDir string
	// WorkDir is where temporary files go; default a new directory under
	// the OS temp dir, removed at the end unless KeepWork.
	WorkDir  string
	KeepWork bool
	// DebugDir, when set, receives the original, patched and patch
	// objects, the generated module source and the build log.
	DebugDir string
	// Signer, when set, signs the module before it is written (see Signer;
	// *modsign.Signer signs with a key file or any crypto.Signer). nil:
	// the module is left unsigned.
	Signer Signer
	// BuildUser runs the programs that come with the kernel tree (make,
	// the compiler kbuild calls, scripts/, objtool, genksyms) when the
	// caller is root: the tree is code from a package, and only loading
	// the module needs root. nil: DefaultBuildUser (the tree's owner, or
	// nobody). Run gives it the work directory (it must be reachable by
	// path: the default one is); kbuild runs in a linked copy of the tree
	// when it may not write the tree. Ignored when the caller is not root.
	BuildUser *BuildUser
	// BuildAsRoot runs the tree's programs as root, as kpatch-build does:
	// an opt-out for trees the build user cannot read.
	BuildAsRoot bool
	// OOTModule, when set, livepatches that out-of-tree module instead of
	// the kernel (kpatch-build --oot-module, --oot-module-src): the patches
	// apply to its source, which kbuild builds against Tree.KbuildDir, and
	// the module's one klp object is the module. Check lists no Objects
	// for it: they are found by building the module.
	OOTModule *OOTModule
	// Progress receives a report as each stage starts, advances and
	// finishes; its Detail is an Event. It is called in order and never
	// concurrently (the compile workers' calls are serialized), and the
	// build waits for it: it should return quickly.
	Progress klpkit.ProgressFunc
	// Logger receives detail (commands run, per-object results); nil: none.
	Logger *slog.Logger
}

// Tree is a prepared kernel source tree and the files that describe the
// kernel a livepatch is for.
type Tree struct {
	// Release is the target kernel's uname -r; the module's vermagic must
	// carry it. Required.
	Release string
	// Dir is the prepared source tree (make prepare done); objects compile
	// here. Required. Run never modifies its sources: patched files live in
	// an overlay. It does run `make <object>` in it once for an object
	// whose kbuild command file is missing.
	Dir string
	// KbuildDir is the tree the module links against (make -C); the
	// installed headers (/lib/modules/<release>/build) are enough. Default
	// Dir.
	KbuildDir string
	// Config is the kernel's .config; default Dir/.config.
	Config string
	// Vmlinux is the target's vmlinux with its symbol table (positions of
	// duplicated local names need it); SystemMap is the fallback when there
	// is no vmlinux. One is required.
	Vmlinux   string
	SystemMap string
	// ModuleSymvers lists the kernel's exports; default
	// KbuildDir/Module.symvers.
	ModuleSymvers string
	// ModulesDir, when set, is searched for the target modules' .ko (or
	// .ko.debug) files, e.g. /lib/modules/<release> or a debuginfo tree;
	// their symbol tables give positions of duplicated names in modules.
	// Without it a module symbol is assumed unique (position 0), with a
	// warning; but a module object that refers to a new global another
	// patch object defines is refused (ErrModuleNotFound), since only the
	// module's symbol table tells which definition it means.
	ModulesDir string
	// MakeArgs are passed to every make run, e.g. CC=gcc-12 HOSTCC=gcc-12.
	// A CC through a compiler wrapper ("ccache gcc-12", distcc, icecc,
	// kpatch-cc) is run and checked as the compiler behind it.
	MakeArgs []string
}

func (t *Tree) withDefaults() Tree {
	out := *t
	if out.KbuildDir == "" {
		out.KbuildDir = out.Dir
	}
	if out.Config == "" {
		out.Config = filepath.Join(out.Dir, ".config")
	}
	if out.ModuleSymvers == "" {
		out.ModuleSymvers = filepath.Join(out.KbuildDir, "Module.symvers")
	}
	return out
}

// compiler returns the C compiler the make arguments name (CC=...).
func (t *Tree) compiler() string {
	cc := "gcc"
	for _, a := range t.MakeArgs {
		if v, ok := strings.CutPrefix(a, "CC="); ok {
			cc = v
		}
	}
	return cc
}

// Stage names a step of the pipeline, as Events report it.
type Stage string

// The pipeline's stages, in order.
const (
	StageCheck   Stage = "check"   // target, config and compiler checks
	StagePatch   Stage = "patch"   // validate and apply the patches
	StageCompile Stage = "compile" // original and patched objects
	StageDiff    Stage = "diff"    // object diffing
	StageLink    Stage = "link"    // module generation, kbuild link, klp rewrite
	StageOutput  Stage = "output"  // the .ko and the debug export
)

// Event reports progress: a stage started (Done == 0), advanced or
// finished (Done == Total).
type Event struct {
	Stage   Stage  `json:"stage"`
	Message string `json:"message"`
	Done    int    `json:"done"`
	Total   int    `json:"total"`
}

// Result describes a finished build.
type Result struct {
	// Module is the path of the written .ko.
	Module string `json:"module"`
	// Name is the module name (file name without .ko); the kernel knows it
	// with '-' replaced by '_'.
	Name string `json:"name"`
	// Objects are the translation units compiled, in patch order.
	Objects []Object `json:"objects"`
	// Warnings are conditions that did not stop the build.
	Warnings []string `json:"warnings"`
}

// Object is one translation unit the patch touched.
type Object struct {
	Path    string   `json:"path"`    // tree-relative object, e.g. fs/proc/meminfo.o
	Target  string   `json:"target"`  // "vmlinux" or the module name
	Changed []string `json:"changed"` // functions the module redirects
	New     []string `json:"new"`     // new functions
	Cached  bool     `json:"cached"`  // the original object came from the cache
}
