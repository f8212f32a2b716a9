// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/atomicfile"
)

// A link recipe is the list of commands kbuild ran to link an external
// module (compile of the generated source, the composite object, modpost,
// the .mod.c compile, the final link), taken from the .cmd files kbuild
// wrote (and, for the compile, from make's V=1 output: the steps of its
// rule no .cmd file holds, see ruleSteps), with the work directory, module
// name and object list replaced by placeholders. Replaying it skips make, whose cost on a no-op is mostly
// the kernel Makefiles probing the compiler (cc-option) on every run: about
// 2 s of each link. A recipe is recorded only after a replay of it in a
// second directory produced the very bytes make produced; anything else
// (a kernel whose kbuild runs steps its .cmd files do not record, a BTF
// pass, an unusual work directory) keeps the make path.

// recipeVersion changes whenever the recipe format or its placeholders do.
// 2: the hook's compile is followed by the steps of its make rule that
// its .cmd file lacks (ruleSteps: 5.10's objtool pass).
const recipeVersion = 2

// Placeholders in recipe commands.
const (
	phWorkMaps = "@KLPKIT_WORKMAPS@" // the work dir's -fdebug-prefix-map flags
	phWork     = "@KLPKIT_WORK@"
	phModname  = "@KLPKIT_MODNAME@" // name with '-' as '_' (KBUILD_MODNAME)
	phName     = "@KLPKIT_NAME@"
	phAbsObjs  = "@KLPKIT_ABSOBJS@"
	phObjs     = "@KLPKIT_OBJS@"
)

// errNoRecipe says why the kbuild commands could not be recorded.
var errNoRecipe = errors.New("kbuild's link commands cannot be replayed")

// errNameInCommands: this module's name cannot be told apart in the
// commands; a link under another name may record them.
var errNameInCommands = errors.New("kbuild's link commands not recorded")

// recipe is what the recipe cache stores.
type recipe struct {
	Version int
	// Steps are shell commands run in order from the kbuild directory.
	Steps []string
	// Tools are the programs the steps run, as they were when recorded:
	// a changed compiler, linker or objtool invalidates the recipe.
	Tools []toolStamp
	// Unusable, when set, says why this kernel's link cannot be replayed:
	// links run make without recording again.
	Unusable string `json:",omitempty"`
}

type toolStamp struct {
	Path    string
	Size    int64
	ModTime time.Time
}

// recipeTargets are the files, relative to the work dir, whose .cmd files
// hold the link's commands, in the order kbuild runs them.
func recipeTargets(name string) []string {
	return []string{hookName + ".o", name + ".mod", "modules.order", name + ".o", "Module.symvers", name + ".mod.o", name + ".ko"}
}

// safeDir matches directories that appear in shell commands unquoted
// without changing their meaning and that prefixMapArgs can map.
var safeDir = regexp.MustCompile(`^/[A-Za-z0-9._/+-]+$`)

// workMaps returns the prefix-map flags prefixMapArgs adds for the work dir.
func workMaps(workDir string) string {
	return strings.Join(debugPrefixMaps(workDir), " ")
}

func modname(name string) string { return strings.ReplaceAll(name, "-", "_") }

// recipeKey hashes everything the commands kbuild chooses depend on: the
// kbuild dir and its configuration, the make arguments and the variables
// kbuild takes from the environment. The programs run are checked
// separately (Tools), when the recipe is loaded.
func recipeKey(o LinkOptions, env []string) (string, error) {
	h := sha256.New()
	real, err := filepath.EvalSymlinks(o.KbuildDir)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "v%d\x00%s\x00%s\x00", recipeVersion, filepath.Clean(o.KbuildDir), real)
	for _, f := range []string{".config", "Makefile", "include/generated/autoconf.h", "include/config/kernel.release", "include/generated/utsrelease.h"} {
		data, err := os.ReadFile(filepath.Join(o.KbuildDir, f))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(data))
		h.Write(data)
	}
	for _, a := range o.MakeArgs {
		fmt.Fprintf(h, "arg\x00%s\x00", a)
	}
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		switch {
		case k == "PATH", k == "ARCH", k == "CROSS_COMPILE", k == "SRCARCH", strings.HasPrefix(k, "LLVM"),
			strings.HasPrefix(k, "KBUILD_"), k == "KCFLAGS", k == "KCPPFLAGS", k == "KAFLAGS", k == "KRUSTFLAGS",
			strings.HasPrefix(k, "GCC_"), k == "SOURCE_DATE_EPOCH", k == "COMPILER_PATH", k == "LIBRARY_PATH":
			fmt.Fprintf(h, "env\x00%s\x00", e)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func recipePath(dir, key string) string {
	return filepath.Join(dir, "link-recipes", key+".json")
}

// loadRecipe returns the stored recipe, or nil when there is none or it
// no longer fits the programs installed.
func loadRecipe(dir, key string) *recipe {
	data, err := os.ReadFile(recipePath(dir, key))
	if err != nil {
		return nil
	}
	var r recipe
	if json.Unmarshal(data, &r) != nil || r.Version != recipeVersion || (len(r.Steps) == 0 && r.Unusable == "") {
		return nil
	}
	for _, t := range r.Tools {
		st, err := os.Stat(t.Path)
		if err != nil || st.Size() != t.Size || !st.ModTime().Equal(t.ModTime) {
			return nil
		}
	}
	return &r
}

func storeRecipe(dir, key string, r *recipe) error {
	data, err := json.MarshalIndent(r, "", "\t")
	if err != nil {
		return err
	}
	p := recipePath(dir, key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(p, data, 0o644)
}

// recordRecipe reads the commands kbuild ran in workDir (see recipeTargets)
// and turns them into a recipe. makeLog is make's output with V=1: it
// shows the steps of the hook's compile rule that no .cmd file holds.
func recordRecipe(kbuildDir, workDir, name string, objs []string, path, makeLog string) (*recipe, error) {
	if !safeDir.MatchString(workDir) {
		return nil, fmt.Errorf("%w: work directory %q needs quoting", errNoRecipe, workDir)
	}
	if len(objs) < 2 {
		return nil, fmt.Errorf("%w: no patch object to find the object list by", errNoRecipe)
	}
	maps := workMaps(workDir)
	abs := make([]string, len(objs))
	for i, o := range objs {
		abs[i] = workDir + "/" + o
	}
	r := &recipe{Version: recipeVersion}
	targets := recipeTargets(name)
	raw := make([]string, len(targets))
	for i, t := range targets {
		target := workDir + "/" + t
		data, err := os.ReadFile(filepath.Join(workDir, "."+t+".cmd"))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errNoRecipe, err)
		}
		cmd := ""
		for _, line := range strings.Split(string(data), "\n") {
			for _, p := range []string{"cmd_" + target + " := ", "savedcmd_" + target + " := "} {
				if v, ok := strings.CutPrefix(line, p); ok {
					cmd = unescapeMake(v)
				}
			}
		}
		if strings.TrimSpace(cmd) == "" {
			return nil, fmt.Errorf("%w: no command for %s in its .cmd file", errNoRecipe, t)
		}
		raw[i] = cmd
	}
	for i, t := range targets {
		cmds := []string{raw[i]}
		if t == hookName+".o" {
			cmds = append(cmds, ruleSteps(makeLog, raw[i], workDir+"/"+t, raw[i+1:])...)
		}
		for _, cmd := range cmds {
			step, err := recipeStep(cmd, t, workDir, name, maps, objs, abs)
			if err != nil {
				return nil, err
			}
			r.Steps = append(r.Steps, step)
		}
	}
	r.Tools = stampTools(kbuildDir, path, r.Steps)
	return r, nil
}

// recipeStep turns cmd, a command kbuild ran for target, into a recipe
// step: the work dir, module name and object list as placeholders.
func recipeStep(cmd, t, workDir, name, maps string, objs, abs []string) (string, error) {
	mod := modname(name)
	if maps != "" {
		cmd = strings.ReplaceAll(cmd, maps, phWorkMaps)
	}
	cmd = strings.ReplaceAll(cmd, strings.Join(abs, " "), phAbsObjs)
	cmd = strings.ReplaceAll(cmd, strings.Join(objs, " "), phObjs)
	cmd = strings.ReplaceAll(cmd, workDir, phWork)
	for _, p := range []string{`KBUILD_BASENAME='"%s.mod"'`, `KBUILD_MODNAME='"%s"'`, `__KBUILD_MODNAME=kmod_%s`} {
		cmd = strings.ReplaceAll(cmd, fmt.Sprintf(p, mod), fmt.Sprintf(p, phModname))
	}
	// The name only where it names the module's files: any other
	// occurrence (a flag holding the same letters) stays as it is.
	cmd = strings.ReplaceAll(cmd, phWork+"/"+name+".", phWork+"/"+phName+".")
	cmd = strings.ReplaceAll(cmd, phWork+"/."+name+".", phWork+"/."+phName+".")
	if strings.Contains(cmd, "klpkit-patch-") {
		return "", fmt.Errorf("%w: the command for %s names a patch object outside the object list", errNoRecipe, t)
	}
	for _, left := range []string{name, mod} {
		if strings.Contains(cmd, left) {
			// Perhaps the module's name in a form not known here, perhaps
			// a flag holding the same letters: another name will tell.
			return "", fmt.Errorf("%w: the command for %s holds the module's name %q where no placeholder fits", errNameInCommands, t, left)
		}
	}
	return cmd, nil
}

// stampTools records the programs the steps start: each command word that
// begins a pipeline stage and names an executable file.
func stampTools(kbuildDir, path string, steps []string) []toolStamp {
	var out []toolStamp
	seen := map[string]bool{}
	for _, s := range steps {
		for _, seg := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' || r == '&' || r == '{' || r == '(' }) {
			f := strings.Fields(seg)
			if len(f) == 0 {
				continue
			}
			p := f[0]
			if strings.Contains(p, "/") {
				if !filepath.IsAbs(p) {
					p = filepath.Join(kbuildDir, p)
				}
			} else if lp, err := lookPath(p, path); err == nil {
				p = lp
			} else {
				continue
			}
			st, err := os.Stat(p)
			if err != nil || st.IsDir() || seen[p] {
				continue
			}
			seen[p] = true
			out = append(out, toolStamp{Path: p, Size: st.Size(), ModTime: st.ModTime()})
		}
	}
	return out
}

// lookPath finds file in the directories of path (a PATH value).
func lookPath(file, path string) (string, error) {
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, file)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", os.ErrNotExist
}

// replay runs r's steps for the module name in workDir, which holds the
// generated source and the patch objects under their kbuild names (objs).
// The commands run as o.Command says; their output goes to out as well,
// when not nil.
func (r *recipe) replay(ctx context.Context, o *LinkOptions, workDir, name string, objs []string, out io.Writer) error {
	if !safeDir.MatchString(workDir) {
		return fmt.Errorf("%w: work directory %q needs quoting", errNoRecipe, workDir)
	}
	abs := make([]string, len(objs))
	for i, o := range objs {
		abs[i] = workDir + "/" + o
	}
	// modpost reads every object's .cmd file for the CRCs of its exports
	// (#SYMVER lines); the hook exports none.
	hookCmd := filepath.Join(workDir, "."+hookName+".o.cmd")
	if err := os.WriteFile(hookCmd, []byte("# "+hookName+".o: no exports\n"), 0o644); err != nil {
		return err
	}
	rep := strings.NewReplacer(phWorkMaps, workMaps(workDir), phAbsObjs, strings.Join(abs, " "), phObjs, strings.Join(objs, " "),
		phWork, workDir, phModname, modname(name), phName, name)
	for _, s := range r.Steps {
		cmd := exec.CommandContext(ctx, "/bin/sh", "-c", rep.Replace(s))
		done, err := o.command(cmd, o.KbuildDir)
		if err != nil {
			return err
		}
		cmd.WaitDelay = 5 * time.Second
		var tail bytes.Buffer
		w := io.Writer(&tail)
		if out != nil {
			w = io.MultiWriter(&tail, out)
		}
		cmd.Stdout, cmd.Stderr = w, w
		err = o.run(cmd)
		done()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("replaying kbuild's link: %w\n%s", err, lastLines(tail.String(), 20))
		}
	}
	return nil
}

// unescapeMake undoes the escapes kbuild applies when it writes a command
// into a .cmd file: "$$" for "$" and "\#" for "#".
func unescapeMake(s string) string {
	s = strings.ReplaceAll(s, "$$", "$")
	return strings.ReplaceAll(s, `\#`, "#")
}

// kbuildLink links the module name from the files Link wrote in o.WorkDir
// (objs: the objects under their kbuild names, the hook first): by
// replaying the recipe kept for this kernel, else with make, recording the
// recipe for the next link.
func kbuildLink(ctx context.Context, name string, objs []string, o LinkOptions) error {
	notify := func(format string, args ...any) {
		if o.Notify != nil {
			o.Notify(fmt.Sprintf(format, args...))
		}
	}
	if o.RecipeDir == "" {
		return runMake(ctx, name, o)
	}
	key, err := recipeKey(o, os.Environ())
	if err != nil {
		notify("linking with make: the kbuild directory cannot be fingerprinted: %v", err)
		return runMake(ctx, name, o)
	}
	if r := loadRecipe(o.RecipeDir, key); r != nil {
		if r.Unusable != "" {
			return runMake(ctx, name, o)
		}
		if err := copyShipped(o.WorkDir, o.WorkDir, objs[1:]); err != nil {
			return fmt.Errorf("link %s: %w", name, err)
		}
		err := r.replay(ctx, &o, o.WorkDir, name, objs, o.Output)
		if err == nil || ctx.Err() != nil {
			return err
		}
		// kbuild redoes every target whose .cmd file it did not write;
		// the hook's, written here, may not be the build user's to replace.
		os.Remove(filepath.Join(o.WorkDir, "."+hookName+".o.cmd"))
		notify("linking with make: %v", err)
		return runMake(ctx, name, o)
	}
	var log bytes.Buffer
	if err := runMakeLogged(ctx, name, o, &log); err != nil {
		return err
	}
	r, err := recordRecipe(o.KbuildDir, o.WorkDir, name, objs, os.Getenv("PATH"), log.String())
	if err == nil {
		err = checkRecipe(ctx, r, name, objs, o)
	}
	if ctx.Err() != nil {
		return nil // the module is built; only the recipe is missing
	}
	if errors.Is(err, errNameInCommands) {
		notify("%v", err)
		return nil
	}
	if err != nil {
		notify("later links of this kernel run make too: %v", err)
		r = &recipe{Version: recipeVersion, Unusable: err.Error()}
	}
	if err := storeRecipe(o.RecipeDir, key, r); err != nil {
		notify("kbuild's link commands not kept: %v", err)
	}
	return nil
}

// checkRecipe replays r in a fresh directory beside o.WorkDir, where make
// has just linked the module, and requires the same module bytes.
func checkRecipe(ctx context.Context, r *recipe, name string, objs []string, o LinkOptions) error {
	// Inside the work dir, made by whoever runs the link's commands: the
	// build user may write there.
	dir := filepath.Join(o.WorkDir, "replay-check")
	mkdir := exec.CommandContext(ctx, "mkdir", dir)
	done, err := o.command(mkdir, o.KbuildDir)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	mkdir.Stdout, mkdir.Stderr = &out, &out
	err = o.run(mkdir)
	done()
	if err != nil {
		return fmt.Errorf("mkdir %s: %w: %s", dir, err, bytes.TrimSpace(out.Bytes()))
	}
	defer os.RemoveAll(dir)
	src, err := os.ReadFile(filepath.Join(o.WorkDir, hookName+".c"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, hookName+".c"), src, 0o644); err != nil {
		return err
	}
	if err := copyShipped(o.WorkDir, dir, objs[1:]); err != nil {
		return err
	}
	if err := r.replay(ctx, &o, dir, name, objs, nil); err != nil {
		return err
	}
	want, err := os.ReadFile(filepath.Join(o.WorkDir, name+".ko"))
	if err != nil {
		return err
	}
	got, err := os.ReadFile(filepath.Join(dir, name+".ko"))
	if err != nil {
		return fmt.Errorf("%w: the replay made no module: %v", errNoRecipe, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%w: replaying them gave a module that differs from make's", errNoRecipe)
	}
	return nil
}

// copyShipped does what kbuild does with <obj>_shipped: copies it to obj,
// from src to dst, with the .cmd file modpost reads beside it.
func copyShipped(src, dst string, objs []string) error {
	for _, obj := range objs {
		data, err := os.ReadFile(filepath.Join(src, obj+"_shipped"))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, obj), data, 0o644); err != nil {
			return err
		}
		cmd := filepath.Join(dst, "."+obj+".cmd")
		if _, err := os.Stat(cmd); err == nil {
			continue
		}
		data, err = os.ReadFile(filepath.Join(src, "."+obj+".cmd"))
		if err != nil {
			return err
		}
		if err := os.WriteFile(cmd, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
