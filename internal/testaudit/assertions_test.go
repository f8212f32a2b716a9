// SPDX-License-Identifier: Apache-2.0

// Package testaudit holds checks on the test suite itself.
package testaudit

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEveryTestAsserts fails if a top-level Test function of the module
// reaches no assertion: no t.Error/Fatal/Fail call, no testify assert or
// require call, in its body, its closures or the helpers it calls (in any
// package of the module, followed transitively). Such a test passes
// whatever the code does. A call that hands the test's T to a function
// value the check cannot resolve (a table's guest func) counts as an
// assertion, since the callee can fail the test; so does os.Exit, by which
// a test body run as a child process reports to its parent.
func TestEveryTestAsserts(t *testing.T) {
	root, modPath := moduleRoot(t)
	m := &module{root: root, path: modPath, fset: token.NewFileSet(), dirs: map[string]*dir{}}
	var missing []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (name == "testdata" || strings.HasPrefix(name, ".") || name == "tools") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		pd := m.dir(filepath.Dir(path))
		for _, fd := range pd.testFuncs[path] {
			if !m.asserts(pd, fd, map[*ast.FuncDecl]bool{}) {
				rel, _ := filepath.Rel(root, path)
				missing = append(missing, rel+": "+fd.Name.Name)
			}
		}
		return nil
	})
	require.NoError(t, err)
	sort.Strings(missing)
	require.Empty(t, missing, "tests that reach no assertion (they pass whatever the code does)")
	require.Greater(t, m.tests, 100, "the check saw the module's tests")
	t.Logf("%d top-level tests checked", m.tests)
}

// TestAuditSeesMissingAssertions runs the check on a package written for
// it: one test asserts through a helper in another file, one asserts in a
// subtest closure, one never asserts.
func TestAuditSeesMissingAssertions(t *testing.T) {
	root := t.TempDir()
	write := func(name, src string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(src), 0o644))
	}
	write("p/a_test.go", `package p
import "testing"
func TestHelper(t *testing.T) { check(t, 1) }
func TestClosure(t *testing.T) { t.Run("x", func(t *testing.T) { if 1 > 2 { t.Fatal("no") } }) }
func TestNothing(t *testing.T) { _ = compute() }
func TestLoop(t *testing.T) { loop(t) }
`)
	write("p/b_test.go", `package p
import "testing"
func check(t *testing.T, n int) { if n != 1 { t.Errorf("n = %d", n) } }
func loop(t *testing.T) { loop(t) }
`)
	write("p/p.go", "package p\nfunc compute() int { return 1 }\n")
	m := &module{root: root, path: "example.com/m", fset: token.NewFileSet(), dirs: map[string]*dir{}}
	pd := m.dir(filepath.Join(root, "p"))
	got := map[string]bool{}
	for _, fds := range pd.testFuncs {
		for _, fd := range fds {
			got[fd.Name.Name] = m.asserts(pd, fd, map[*ast.FuncDecl]bool{})
		}
	}
	require.Equal(t, map[string]bool{"TestHelper": true, "TestClosure": true, "TestNothing": false, "TestLoop": false}, got)
}

type module struct {
	root, path string
	fset       *token.FileSet
	dirs       map[string]*dir
	tests      int
}

// dir is one directory's Go files: package and external test package
// share a namespace here, which only makes the check more lenient.
type dir struct {
	funcs     map[string][]*ast.FuncDecl // functions and methods by name
	imports   map[*ast.FuncDecl]map[string]string
	testFuncs map[string][]*ast.FuncDecl // file -> its Test functions
}

func (m *module) dir(path string) *dir {
	if d, ok := m.dirs[path]; ok {
		return d
	}
	d := &dir{funcs: map[string][]*ast.FuncDecl{}, imports: map[*ast.FuncDecl]map[string]string{}, testFuncs: map[string][]*ast.FuncDecl{}}
	m.dirs[path] = d
	entries, _ := os.ReadDir(path)
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		file := filepath.Join(path, e.Name())
		f, err := parser.ParseFile(m.fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		imports := map[string]string{}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			name := p[strings.LastIndex(p, "/")+1:]
			if im.Name != nil {
				name = im.Name.Name
			}
			imports[name] = p
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			d.funcs[fd.Name.Name] = append(d.funcs[fd.Name.Name], fd)
			d.imports[fd] = imports
			if strings.HasSuffix(file, "_test.go") && fd.Recv == nil && isTestFunc(fd) {
				d.testFuncs[file] = append(d.testFuncs[file], fd)
				m.tests++
			}
		}
	}
	return d
}

// isTestFunc: func TestXxx(t *testing.T).
func isTestFunc(fd *ast.FuncDecl) bool {
	name := fd.Name.Name
	if !strings.HasPrefix(name, "Test") || name == "TestMain" || len(fd.Type.Params.List) != 1 {
		return false
	}
	if rest := name[len("Test"):]; rest != "" && strings.ToLower(rest[:1]) == rest[:1] && rest[:1] != "_" {
		return false
	}
	star, ok := fd.Type.Params.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "T"
}

// failMethods are the testing.TB methods that fail a test.
var failMethods = map[string]bool{"Error": true, "Errorf": true, "Fatal": true, "Fatalf": true, "Fail": true, "FailNow": true}

// asserts reports whether fd, or what it calls, can fail a test.
func (m *module) asserts(d *dir, fd *ast.FuncDecl, seen map[*ast.FuncDecl]bool) bool {
	if seen[fd] {
		return false
	}
	seen[fd] = true
	imports := d.imports[fd]
	tNames := testingParams(fd)
	found := false
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		if found {
			return false
		}
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		switch fun := call.Fun.(type) {
		case *ast.SelectorExpr:
			if pkg, ok := fun.X.(*ast.Ident); ok && imports[pkg.Name] != "" {
				p := imports[pkg.Name]
				// os.Exit: a child-process test body fails by its exit status,
				// which the parent test checks.
				if strings.HasPrefix(p, "github.com/stretchr/testify/") || (p == "os" && fun.Sel.Name == "Exit") {
					found = true
					return false
				}
				if p == m.path || strings.HasPrefix(p, m.path+"/") {
					other := m.dir(filepath.Join(m.root, strings.TrimPrefix(strings.TrimPrefix(p, m.path), "/")))
					found = m.anyAsserts(other, fun.Sel.Name, seen)
				}
				return !found
			}
			if x, ok := fun.X.(*ast.Ident); ok && tNames[x.Name] && failMethods[fun.Sel.Name] {
				found = true
				return false
			}
			// A method: any of that name in this directory.
			if cands := d.funcs[fun.Sel.Name]; len(cands) > 0 {
				found = m.anyAsserts(d, fun.Sel.Name, seen)
			} else {
				found = passesT(call, tNames)
			}
		case *ast.Ident:
			if cands := d.funcs[fun.Name]; len(cands) > 0 {
				found = m.anyAsserts(d, fun.Name, seen)
			} else {
				found = passesT(call, tNames) // a func value: a table's check, a closure variable
			}
		}
		return !found
	})
	return found
}

func (m *module) anyAsserts(d *dir, name string, seen map[*ast.FuncDecl]bool) bool {
	for _, fd := range d.funcs[name] {
		if m.asserts(d, fd, seen) {
			return true
		}
	}
	return false
}

// passesT reports whether a call hands on a test's T.
func passesT(call *ast.CallExpr, tNames map[string]bool) bool {
	for _, a := range call.Args {
		if id, ok := a.(*ast.Ident); ok && tNames[id.Name] {
			return true
		}
	}
	return false
}

// testingParams returns the names of fd's parameters, and its closures',
// of type *testing.T, *testing.B, *testing.F or testing.TB.
func testingParams(fd *ast.FuncDecl) map[string]bool {
	names := map[string]bool{}
	ast.Inspect(fd, func(n ast.Node) bool {
		ft, ok := n.(*ast.FuncType)
		if !ok || ft.Params == nil {
			return true
		}
		for _, p := range ft.Params.List {
			typ := p.Type
			if star, ok := typ.(*ast.StarExpr); ok {
				typ = star.X
			}
			sel, ok := typ.(*ast.SelectorExpr)
			if !ok {
				continue
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "testing" || !map[string]bool{"T": true, "B": true, "F": true, "TB": true}[sel.Sel.Name] {
				continue
			}
			for _, n := range p.Names {
				names[n.Name] = true
			}
		}
		return true
	})
	return names
}

// moduleRoot finds go.mod above the working directory.
func moduleRoot(t *testing.T) (root, modPath string) {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if p, ok := strings.CutPrefix(line, "module "); ok {
					return dir, strings.TrimSpace(p)
				}
			}
			t.Fatalf("%s/go.mod has no module line", dir)
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, parent, dir, "no go.mod above the test")
		dir = parent
	}
}
