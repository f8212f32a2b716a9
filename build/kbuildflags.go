// SPDX-License-Identifier: Apache-2.0

package build

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// unknownFlag is an include flag the scan cannot expand, and the
// directory whose Makefile has it.
type unknownFlag struct {
	dir, text string
	makefile  string // its text, to tell which units it builds
}

// kbuildDir reports a directory kbuild descends into: tools/ and scripts/
// hold host and user-space programs, whose Makefiles set no kernel unit's
// flags.
func kbuildDir(dir string) bool {
	for _, top := range []string{"tools", "scripts", "usr"} {
		if dir == top || strings.HasPrefix(dir, top+"/") {
			return false
		}
	}
	return true
}

// dirFlags adds to the graph the include directories and forced includes
// the Makefiles of dir and of every directory above it give (a Makefile
// may build objects of its subdirectories, and subdir-ccflags-y reaches
// them), and dir itself (kbuild's -I $(srctree)/$(src) outside the
// source tree). Every directory is read once.
func (g *includeGraph) dirFlags(dir string) {
	g.extra[dir] = true
	if !kbuildDir(dir) {
		return
	}
	for d := dir; d != "." && d != "/" && !g.makefiles[d]; d = path.Dir(d) {
		g.makefiles[d] = true
		g.makefileFlags(d)
	}
}

// makefileFlags reads dir's Kbuild (or Makefile) for -I, -iquote,
// -idirafter, -isystem and -include.
func (g *includeGraph) makefileFlags(dir string) {
	if !g.flagsFile(path.Join(dir, "Kbuild"), dir) {
		g.flagsFile(path.Join(dir, "Makefile"), dir) // kbuild reads Kbuild in preference
	}
}

// flagsFile reads one Makefile's include flags; false when there is none.
func (g *includeGraph) flagsFile(p, dir string) bool {
	root := g.root(p)
	if root == "" {
		return false
	}
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(p)))
	if err != nil {
		g.fail(fmt.Errorf("reading %s for its include flags: %w", p, err))
		return true
	}
	g.parseFlags(p, dir, string(data))
	return true
}

// parseFlags takes the include flags of one Makefile: from any line, not
// only ccflags-y, subdir-ccflags-y and CFLAGS_<obj>.o, since a variable
// of another name may carry them into those (a superset of directories).
// $(srctree), $(objtree), $(src), $(obj), $(SRCARCH) and $(SUBARCH) are
// expanded (an in-tree build), and the Makefile's own variables; a
// directory spelt with any other variable is recorded as one the scan
// cannot expand.
func (g *includeGraph) parseFlags(file, dir, data string) {
	type logical struct {
		n    int // first physical line
		text string
	}
	var lines []logical
	for n, l := range strings.Split(data, "\n") {
		if i := strings.Index(l, "#"); i >= 0 {
			l = l[:i]
		}
		if k := len(lines); k > 0 && strings.HasSuffix(lines[k-1].text, "\\") {
			lines[k-1].text = strings.TrimSuffix(lines[k-1].text, "\\") + " " + l
			continue
		}
		lines = append(lines, logical{n + 1, l})
	}
	vars := map[string]string{}
	for _, l := range lines {
		if m := makeAssign.FindStringSubmatch(l.text); m != nil {
			if m[2] == "+=" {
				vars[m[1]] += " " + strings.TrimSpace(m[3])
			} else {
				vars[m[1]] = strings.TrimSpace(m[3])
			}
		}
	}
	arch := path.Base(path.Dir(g.search[0]))
	for _, l := range lines {
		fields := strings.Fields(l.text)
		if len(fields) > 0 && (fields[0] == "include" || fields[0] == "-include" || fields[0] == "sinclude") {
			continue // make's own include of a makefile
		}
		for i := 0; i < len(fields); i++ {
			f := fields[i]
			var opt string
			for _, o := range []string{"-include", "-iquote", "-idirafter", "-isystem", "-I"} {
				if strings.HasPrefix(f, o) {
					opt = o
					break
				}
			}
			if opt == "" {
				continue
			}
			val := strings.TrimPrefix(f, opt)
			if val == "" && i+1 < len(fields) {
				i++
				val = fields[i]
			}
			p, ok := expandKbuildPath(expandVars(val, vars, arch), dir)
			if !ok && (opt == "-isystem" || opt == "-idirafter") && strings.Contains(val, "$(shell") {
				continue // the compiler's own headers ($(CC) -print-file-name=include)
			}
			if !ok {
				g.unknownDir = append(g.unknownDir, unknownFlag{dir: dir, makefile: data,
					text: fmt.Sprintf("%s:%d: %s %s", file, l.n, opt, val)})
				continue
			}
			if opt == "-include" {
				g.forced[dir] = append(g.forced[dir], p)
			} else {
				g.extra[p] = true
			}
		}
	}
}

// makeAssign matches a make variable assignment.
var makeAssign = regexp.MustCompile(`^\s*(?:override\s+|export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(::=|:=|\?=|\+=|=)(.*)$`)

// expandVars expands the Makefile's own variables and the architecture's
// names in v, a few levels deep.
func expandVars(v string, vars map[string]string, arch string) string {
	vars2 := map[string]string{"SRCARCH": arch, "SUBARCH": arch, "hdr-arch": arch}
	for depth := 0; depth < 8 && strings.Contains(v, "$"); depth++ {
		prev := v
		for _, m := range [][2]string{{"$(", ")"}, {"${", "}"}} {
			for name, val := range vars {
				v = strings.ReplaceAll(v, m[0]+name+m[1], val)
			}
			for name, val := range vars2 {
				v = strings.ReplaceAll(v, m[0]+name+m[1], val)
			}
		}
		if v == prev {
			break
		}
	}
	return v
}

// expandKbuildPath turns a Makefile's path into a tree-relative one.
func expandKbuildPath(v, dir string) (string, bool) {
	r := strings.NewReplacer("$(srctree)/", "", "${srctree}/", "", "$(objtree)/", "", "${objtree}/", "",
		"$(srctree)", ".", "$(objtree)", ".", "$(src)", dir, "${src}", dir, "$(obj)", dir, "${obj}", dir)
	v = r.Replace(v)
	if v == "" || strings.Contains(v, "$") || path.IsAbs(v) {
		return "", false
	}
	v = path.Clean(v)
	if v == ".." || strings.HasPrefix(v, "../") {
		return "", false
	}
	return v, true
}
