// SPDX-License-Identifier: Apache-2.0

package livepatch_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/klpkit/klpkit/livepatch"
)

// A kernel-style tree with one file, for the examples.
func exampleTree() string {
	dir, _ := os.MkdirTemp("", "klpkit-example-")
	_ = os.MkdirAll(filepath.Join(dir, "fs/proc"), 0o755)
	_ = os.WriteFile(filepath.Join(dir, "fs/proc/cmdline.c"), []byte(`static int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, saved_command_line);
	seq_putc(m, '\n');
	return 0;
}
`), 0o644)
	return dir
}

const examplePatch = `From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001
From: Klp Tester <klp@example.com>
Subject: [PATCH] proc: mark /proc/cmdline as live patched

---
diff --git a/fs/proc/cmdline.c b/fs/proc/cmdline.c
--- a/fs/proc/cmdline.c
+++ b/fs/proc/cmdline.c
@@ -1,6 +1,7 @@
 static int cmdline_proc_show(struct seq_file *m, void *v)
 {
 	seq_puts(m, saved_command_line);
+	seq_puts(m, " klp");
 	seq_putc(m, '\n');
 	return 0;
 }
-- 
2.39.5
`

func Example() {
	tree := exampleTree()
	defer os.RemoveAll(tree)
	ctx := context.Background()

	patches, err := livepatch.Parse("cmdline.patch", []byte(examplePatch), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("subject:", patches[0].Subject)

	findings, err := livepatch.Validate(ctx, patches, &livepatch.ValidateOptions{Tree: tree})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("findings:", len(findings))

	// Dry run first, then for real.
	if _, err := livepatch.Apply(ctx, tree, patches, &livepatch.ApplyOptions{DryRun: true}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := livepatch.Apply(ctx, tree, patches, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("changed:", res.Changed)
	// Output:
	// subject: proc: mark /proc/cmdline as live patched
	// findings: 0
	// changed: [fs/proc/cmdline.c]
}

func ExampleValidate() {
	patch := `--- a/kernel/demo.c
+++ b/kernel/demo.c
@@ -1,3 +1,3 @@
-int demo_limit = 16;
+int demo_limit = 32;
 
 static int demo_check(int n)
`
	patches, _ := livepatch.Parse("limit.patch", []byte(patch), nil)
	findings, _ := livepatch.Validate(context.Background(), patches, nil)
	for _, f := range findings {
		fmt.Println(f.Rule, f.Severity, f.File, f.Line)
	}
	fmt.Println("stop:", livepatch.HasErrors(findings))
	// Output:
	// data-changed error kernel/demo.c 1
	// stop: true
}

func ExampleCombine() {
	tree := exampleTree()
	defer os.RemoveAll(tree)
	first, _ := livepatch.Parse("1.patch", []byte(examplePatch), nil)
	second, _ := livepatch.Parse("2.patch", []byte(`--- a/fs/proc/cmdline.c
+++ b/fs/proc/cmdline.c
@@ -3,3 +3,3 @@
 	seq_puts(m, saved_command_line);
-	seq_puts(m, " klp");
+	seq_puts(m, " klp2");
 	seq_putc(m, '\n');
`), nil)
	combined, err := livepatch.Combine(context.Background(), tree, append(first, second...))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(combined.Format()))
	// Output:
	// diff --git a/fs/proc/cmdline.c b/fs/proc/cmdline.c
	// --- a/fs/proc/cmdline.c
	// +++ b/fs/proc/cmdline.c
	// @@ -1,6 +1,7 @@
	//  static int cmdline_proc_show(struct seq_file *m, void *v)
	//  {
	//  	seq_puts(m, saved_command_line);
	// +	seq_puts(m, " klp2");
	//  	seq_putc(m, '\n');
	//  	return 0;
	//  }
}

func ExampleModuleName() {
	name, _ := livepatch.ModuleName([]string{"/root/CVE-2024-1234 fix.patch"}, "")
	fmt.Println(name, livepatch.KernelModuleName(name))
	fmt.Println(livepatch.AutoLivepatchName("/root/CVE-2023-1234_netfilter.patch", time.Date(2026, 11, 27, 13, 7, 3, 0, time.UTC)))
	m := livepatch.Module{Name: name, Description: "Fix \"cmdline\"\nleak"}
	fmt.Println(m.Validate() == nil, m.Replace(), m.CDescription(), livepatch.License)
	// Output:
	// livepatch-CVE-2024-1234-fix livepatch_CVE_2024_1234_fix
	// CVE-2023-1234_netfil-27Nov2026-13_07_03
	// true true Fix \"cmdline\" leak GPL
}
