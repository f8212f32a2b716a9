// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// edit is one text replacement in a fixture tree file; old "" with a file
// that does not exist creates it.
type edit1 struct{ file, old, new string }

// editPatch builds a real-looking patch (git format, diff -p sections) for
// the edits to the fixture tree, through Format and Parse.
func editPatch(t *testing.T, edits ...edit1) []*Patch {
	t.Helper()
	p := &Patch{Source: "edit.patch"}
	for _, e := range edits {
		before := &memFile{}
		data, err := os.ReadFile(filepath.Join(fixtureTree, e.file))
		if err == nil {
			before = fileFromBytes(data, 0o644)
		}
		text := string(data)
		if e.old != "" {
			require.Equal(t, 1, strings.Count(text, e.old), "edit of %s must match once: %q", e.file, e.old)
		}
		var after *memFile
		switch {
		case e.old == "" && !before.exists:
			after = fileFromBytes([]byte(e.new), 0o644)
		case e.new == "" && e.old == text:
			after = &memFile{}
		default:
			after = fileFromBytes([]byte(strings.Replace(text, e.old, e.new, 1)), 0o644)
		}
		p.Files = append(p.Files, diffFile(e.file, before, after)...)
	}
	ps, err := Parse("edit.patch", p.Format(), nil)
	require.NoError(t, err, string(p.Format()))
	return ps
}

func rulesOf(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	return out
}

func findRule(fs []Finding, rule string) *Finding {
	for i := range fs {
		if fs[i].Rule == rule {
			return &fs[i]
		}
	}
	return nil
}

var validateCases = []struct {
	name     string
	edits    []edit1
	rule     string // the rule that must fire ("" for negatives)
	sev      Severity
	line     int  // expected line of the finding, 0: not checked
	treeOnly bool // needs the whole file to see
	others   []string
	// treeOthers fire only with the whole file (line shifts far below).
	treeOthers []string
}{
	// Paths.
	{name: "assembly", edits: []edit1{{"arch/x86/kernel/demo_entry.S", "movl\t$1, %eax", "movl\t$2, %eax"}}, rule: RuleAsmFile, sev: SeverityError},
	{name: "lib", edits: []edit1{{"lib/demo_lib.c", "return a + b;", "return b + a;"}}, rule: RuleNonPatchablePath, sev: SeverityError},
	{name: "vdso", edits: []edit1{{"arch/x86/entry/vdso/vclock.c", "", "int vclock;\n"}}, rule: RuleNonPatchablePath, sev: SeverityError},
	{name: "tools", edits: []edit1{{"tools/demo/demo.c", "", "int main(void) { return 0; }\n"}}, rule: RuleNonPatchablePath, sev: SeverityError},
	{name: "makefile", edits: []edit1{{"kernel/Makefile", "obj-y += demo.o", "obj-y += demo.o demo2.o"}}, rule: RuleBuildFile, sev: SeverityError, others: []string{RuleNoCodeChange}},
	{name: "kconfig", edits: []edit1{{"kernel/Kconfig.demo", "default y", "default n"}}, rule: RuleBuildFile, sev: SeverityError, others: []string{RuleNoCodeChange}},
	{name: "documentation", edits: []edit1{{"Documentation/demo.rst", "", "Demo\n====\n"}}, rule: RuleDocumentation, sev: SeverityWarning, others: []string{RuleNoCodeChange}},
	{name: "non-source", edits: []edit1{{"kernel/README.demo", "", "notes\n"}}, rule: RuleNonSource, sev: SeverityWarning, others: []string{RuleNoCodeChange}},

	// The precise negative: a plain change inside a .c function body.
	{name: "body change is clean", edits: []edit1{{"kernel/demo.c", "\tdemo_global.users++;", "\tdemo_global.users += 1;"}}},
	{name: "cmdline body change is clean", edits: []edit1{{"fs/proc/cmdline.c", "\tseq_putc(m, '\\n');", "\tseq_puts(m, \" klp\\n\");"}}},

	// __init / __exit.
	{name: "init function", edits: []edit1{{"kernel/demo.c", "\tdemo_global.users = demo_boot_users - 1;", "\tdemo_global.users = demo_boot_users;"}}, rule: RuleInitCode, sev: SeverityError, line: 65},
	{name: "exit function", edits: []edit1{{"kernel/demo.c", "static void __exit demo_exit(void)\n{\n\tdemo_report();", "static void __exit demo_exit(void)\n{\n\tdemo_report();\n\tdemo_report();"}}, rule: RuleInitCode, sev: SeverityError},
	{name: "initcall registration", edits: []edit1{{"fs/proc/cmdline.c", "fs_initcall(proc_cmdline_init);", "device_initcall(proc_cmdline_init);"}}, rule: RuleInitCode, sev: SeverityError},
	{name: "initdata", edits: []edit1{{"kernel/demo.c", "demo_boot_users = 1;", "demo_boot_users = 2;"}}, rule: RuleInitData, sev: SeverityError, line: 21},

	// Headers.
	{name: "header struct", edits: []edit1{{"include/linux/demo.h", "\tint flags;\n", "\tint flags;\n\tint extra;\n"}}, rule: RuleHeaderStruct, sev: SeverityError, line: 10},
	{name: "header struct comment only", edits: []edit1{{"include/linux/demo.h", "\tint id;\n", "\tint id; /* request id */\n"}}, others: []string{RuleNoCodeChange}},
	{name: "header inline", edits: []edit1{{"include/linux/demo.h", "return req->id >= 0;", "return req->id >= 0 && req->flags >= 0;"}}, rule: RuleHeaderInline, sev: SeverityWarning},
	{name: "header prototype", edits: []edit1{{"include/linux/demo.h", "int demo_get(int n);", "int demo_get(unsigned int n);"}}, rule: RuleHeaderPrototype, sev: SeverityWarning},
	{name: "header comment only", edits: []edit1{{"include/linux/demo.h", "the number of users", "the user count"}}, others: []string{RuleNoCodeChange}},
	{name: "header macro", edits: []edit1{{"include/linux/demo.h", "#define DEMO_MAX_USERS 64", "#define DEMO_MAX_USERS 128"}}, rule: RuleHeaderMacro, sev: SeverityWarning},
	{name: "macro in .c is fine", edits: []edit1{{"kernel/demo.c", "#include <linux/demo.h>\n", "#include <linux/demo.h>\n\n#define DEMO_STEP 1\n"}}, treeOthers: []string{RuleLineShift}},

	// Data and types in .c.
	{name: "struct in .c", edits: []edit1{{"kernel/demo.c", "\tunsigned long flags;\n", "\tunsigned long flags;\n\tint extra;\n"}}, rule: RuleStructLayout, sev: SeverityError, treeOthers: []string{RuleLineShift}},
	{name: "new struct in .c is fine", edits: []edit1{{"kernel/demo.c", "int demo_limit = 16;\n", "int demo_limit = 16;\n\nstruct demo_extra {\n\tint peak;\n\tunsigned long when;\n};\n"}}, treeOthers: []string{RuleLineShift}},
	{name: "new union and enum in .c are fine", edits: []edit1{{"kernel/demo.c", "int demo_limit = 16;\n", "int demo_limit = 16;\n\nunion demo_val {\n\tint i;\n\tlong l;\n};\n\nenum demo_mode {\n\tDEMO_OFF,\n\tDEMO_ON,\n};\n"}}, treeOthers: []string{RuleLineShift}},
	{name: "new struct and its new data", edits: []edit1{{"kernel/demo.c", "int demo_limit = 16;\n", "int demo_limit = 16;\n\nstruct demo_extra {\n\tint peak;\n};\nstatic struct demo_extra demo_extra;\n"}}, rule: RuleDataNew, sev: SeverityWarning, treeOthers: []string{RuleLineShift}},
	{name: "existing struct redefined whole", edits: []edit1{{"kernel/demo.c", "struct demo_state {\n\tint users;\n\tunsigned long flags;\n};\n", "struct demo_state {\n\tint users;\n\tunsigned long flags;\n\tint extra;\n};\n"}}, rule: RuleStructLayout, sev: SeverityError, treeOthers: []string{RuleLineShift}},
	{name: "existing struct renamed to a new one", edits: []edit1{{"kernel/demo.c", "struct demo_state {\n\tint users;\n", "struct demo_state2 {\n\tint users;\n"}}, rule: RuleStructLayout, sev: SeverityError, others: []string{RuleStructLayout}},
	{name: "new struct in a header warns", edits: []edit1{{"include/linux/demo.h", "#define DEMO_MAX_USERS 64\n", "#define DEMO_MAX_USERS 64\n\nstruct demo_stats {\n\tint hits;\n};\n"}}, rule: RuleHeaderStruct, sev: SeverityWarning, line: 7},
	{name: "global initializer", edits: []edit1{{"kernel/demo.c", "int demo_limit = 16;", "int demo_limit = 32;"}}, rule: RuleDataChanged, sev: SeverityError, line: 19},
	{name: "static initializer block", edits: []edit1{{"kernel/demo.c", "\t.flags = 0,", "\t.flags = 1,"}}, rule: RuleDataChanged, sev: SeverityError, line: 16},
	{name: "new static data", edits: []edit1{{"kernel/demo.c", "int demo_limit = 16;\n", "int demo_limit = 16;\nstatic int demo_peak;\n"}}, rule: RuleDataNew, sev: SeverityWarning, line: 20, treeOthers: []string{RuleLineShift}},
	{name: "removed data", edits: []edit1{{"fs/proc/cmdline.c", "static int show_count;\n\n", ""}}, rule: RuleDataRemoved, sev: SeverityWarning, line: 8},
	{name: "static local", edits: []edit1{{"kernel/demo.c", "\tint ret;\n", "\tstatic int calls;\n\tint ret;\n"}}, rule: RuleStaticLocal, sev: SeverityWarning, treeOthers: []string{RuleLineShift}},
	{name: "plain local is fine", edits: []edit1{{"kernel/demo.c", "\tint ret;\n", "\tint ret, calls;\n"}}},

	// Once macros.
	{name: "pr_warn_once", edits: []edit1{{"kernel/demo.c", "\tWARN_ON(demo_global.users == 0);", "\tpr_warn_once(\"demo: put\\n\");"}}, rule: RuleOnceMacro, sev: SeverityWarning, line: 46},
	{name: "WARN_ON_ONCE", edits: []edit1{{"kernel/demo.c", "\tWARN_ON(demo_global.users == 0);", "\tWARN_ON_ONCE(demo_global.users == 0);"}}, rule: RuleOnceMacro, sev: SeverityWarning},
	{name: "pr_warn is fine", edits: []edit1{{"kernel/demo.c", "\tWARN_ON(demo_global.users == 0);", "\tpr_warn(\"demo: put\\n\");"}}},
	{name: "DO_ONCE", edits: []edit1{{"kernel/demo.c", "\tret = demo_check(n);", "\tDO_ONCE(demo_setup);"}}, rule: RuleOnceStaticKey, sev: SeverityError},

	// Syscalls.
	{name: "syscall", edits: []edit1{{"kernel/demo.c", "\tif (n == 0)", "\tif (n <= 0)"}}, rule: RuleSyscallDefine, sev: SeverityError, line: 52},
	{name: "kpatch syscall macro is fine", edits: []edit1{{"kernel/demo.c", "SYSCALL_DEFINE1(demo, int, n)\n{\n\tif (n == 0)", "KPATCH_SYSCALL_DEFINE1(demo, int, n)\n{\n\tif (n <= 0)"}}},

	// Signatures and inline.
	{name: "global signature", edits: []edit1{{"kernel/demo.c", "int demo_get(int n)\n", "int demo_get(long n)\n"}}, rule: RuleFunctionSignature, sev: SeverityWarning, line: 32},
	{name: "static signature is fine", edits: []edit1{{"kernel/demo.c", "static int demo_check(int n)", "static int demo_check(long n)"}}},
	{name: "inline in .c", edits: []edit1{{"kernel/demo_inline.c", "return n > DEMO_MAX_USERS", "return n >= DEMO_MAX_USERS"}}, rule: RuleInlineNotrace, sev: SeverityWarning, line: 7},
	{name: "notrace", edits: []edit1{{"kernel/demo_inline.c", "return n + 1;", "return n + 2;"}}, rule: RuleInlineNotrace, sev: SeverityError},
	{name: "__always_inline is fine", edits: []edit1{{"kernel/demo_inline.c", "return 2 * n;", "return n << 1;"}}},

	// Line shifts above WARN/BUG sites.
	{name: "line shift", edits: []edit1{{"kernel/demo.c", "\tdemo_global.users++;\n", "\tdemo_global.users++;\n\tpr_debug(\"demo: get\\n\");\n"}}, rule: RuleLineShift, sev: SeverityWarning, line: 40, treeOnly: true},
	{name: "line shift in hunk context", edits: []edit1{{"kernel/demo.c", "\nvoid demo_put(void)\n", "\n/* put */\nvoid demo_put(void)\n"}}, rule: RuleLineShift, sev: SeverityWarning, others: []string{RuleNoCodeChange}},
	{name: "same line count: no shift", edits: []edit1{{"kernel/demo.c", "\tdemo_global.users++;\n", "\tdemo_global.users += 1;\n"}}},
	{name: "shift without sites below", edits: []edit1{{"kernel/demo.c", "\tdemo_report();\n}\n", "\tdemo_report();\n\tdemo_report();\n}\n"}}, rule: RuleInitCode, sev: SeverityError},

	// Nothing compilable.
	{name: "comment only", edits: []edit1{{"kernel/demo.c", "a fixture with data", "a test fixture with data"}}, rule: RuleNoCodeChange, sev: SeverityError},
	{name: "whitespace only", edits: []edit1{{"kernel/demo.c", "\treturn demo_get(n);", "\treturn  demo_get(n);"}}, rule: RuleNoCodeChange, sev: SeverityError},
}

func TestValidateRules(t *testing.T) {
	ctx := context.Background()
	for _, tc := range validateCases {
		for _, withTree := range []bool{true, false} {
			name := tc.name + "/hunk-context"
			opts := &ValidateOptions{}
			if withTree {
				name = tc.name + "/tree"
				opts.Tree = fixtureTree
			}
			t.Run(name, func(t *testing.T) {
				patches := editPatch(t, tc.edits...)
				fs, err := Validate(ctx, patches, opts)
				require.NoError(t, err)
				want := append([]string(nil), tc.others...)
				if withTree {
					want = append(want, tc.treeOthers...)
				}
				if tc.rule != "" && (withTree || !tc.treeOnly) {
					want = append(want, tc.rule)
				}
				assert.ElementsMatch(t, want, rulesOf(fs), "findings: %v\npatch:\n%s", fs, patches[0].Format())
				if tc.rule == "" || (!withTree && tc.treeOnly) {
					return
				}
				f := findRule(fs, tc.rule)
				require.NotNil(t, f)
				assert.Equal(t, tc.sev, f.Severity)
				if tc.rule != RuleNoCodeChange {
					assert.Equal(t, tc.edits[0].file, f.File)
				}
				assert.NotEmpty(t, f.Message)
				if tc.line > 0 {
					assert.Equal(t, tc.line, f.Line, f.String())
				}
			})
		}
	}
}

func TestValidateFixturePatches(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		files []string
		want  []string
	}{
		{[]string{"cmdline-marker.patch"}, nil},
		{[]string{"demo-series.mbox"}, nil},
		{[]string{"demo-quilt.patch"}, nil}, // its shifts are all in functions it changes
		{[]string{"cmdline-nupr.patch"}, []string{RuleDataNew}},
		{[]string{"file-ops.patch"}, []string{RuleAsmFile, RuleBuildFile}},
	}
	for _, tc := range tests {
		for _, tree := range []string{fixtureTree, ""} {
			t.Run(strings.Join(tc.files, "+")+"/"+tree, func(t *testing.T) {
				var files []string
				for _, f := range tc.files {
					files = append(files, fixture(f))
				}
				fs, err := Validate(ctx, mustParse(t, files...), &ValidateOptions{Tree: tree})
				require.NoError(t, err)
				got := rulesOf(fs)
				assert.ElementsMatch(t, tc.want, got, "%v", fs)
			})
		}
	}
}

func TestValidateErrors(t *testing.T) {
	ctx := context.Background()
	_, err := Validate(ctx, nil, nil)
	require.ErrorIs(t, err, ErrNoPatches)
	series := mustParse(t, fixture("demo-series.mbox"))
	_, err = Validate(ctx, series[1:], &ValidateOptions{Tree: fixtureTree})
	require.ErrorIs(t, err, ErrHunkFailed, "with a tree the patches must apply")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = Validate(cctx, series, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, HasErrors([]Finding{{Severity: SeverityWarning}, {Severity: SeverityError}}))
	assert.False(t, HasErrors([]Finding{{Severity: SeverityWarning}}))
	assert.Equal(t, "kernel/demo.c:19: error: fix it [data-changed]",
		Finding{Rule: RuleDataChanged, Severity: SeverityError, File: "kernel/demo.c", Line: 19, Message: "fix it"}.String())
}

// TestValidateOnlyLineNumbersMoved: a blank or comment line that shifts
// the lines below (kpatch's warn-detect-FAIL) is refused for what it is.
func TestValidateOnlyLineNumbersMoved(t *testing.T) {
	cases := []struct {
		name      string
		edit      edit1
		lineMoves bool
	}{
		{"blank line", edit1{"kernel/demo.c", "\nvoid demo_put(void)\n", "\n\nvoid demo_put(void)\n"}, true},
		{"comment line", edit1{"kernel/demo.c", "\nvoid demo_put(void)\n", "\n/* put */\nvoid demo_put(void)\n"}, true},
		{"comment reworded", edit1{"kernel/demo.c", "a fixture with data", "a test fixture with data"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs, err := Validate(context.Background(), editPatch(t, c.edit), nil)
			require.NoError(t, err)
			f := findRule(fs, RuleNoCodeChange)
			require.NotNil(t, f, "%v", fs)
			if c.lineMoves {
				assert.Contains(t, f.Message, "no changed functions: only line numbers moved")
				assert.Contains(t, f.Message, "kernel/demo.c")
			} else {
				assert.NotContains(t, f.Message, "line numbers")
			}
		})
	}
}
