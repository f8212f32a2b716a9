// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// changelog is shaped as the linux source package's (wrapped [rt] items,
// sub-items, other maintainers' items).
const changelog = `linux (6.1.192-3) bookworm-security; urgency=high

  * Fix a regression

 -- Someone <someone@example.org>  Wed, 25 Nov 2026 10:00:00 +0100

linux (6.1.177-1) bookworm-security; urgency=high

  [ Salvatore Bonaccorso ]
  * [rt] Refresh "ARM: enable irq in translation/section permission fault
    handlers"
  * [rt] Drop "debugobjects,locking: Annotate debug_object_fill_pool() wait type
    violation" (applied upstream)

 -- Someone <someone@example.org>  Wed, 01 Jul 2026 10:00:00 +0100

linux (6.1.176-1) bookworm-security; urgency=high

  * [rt] Update to 6.1.176-rt64:
    - ipv6: fix a BUG in rt6_get_pcpu_route() under PREEMPT_RT
  * [x86] Something else

 -- Someone <someone@example.org>  Tue, 23 Jun 2026 10:00:00 +0100

linux (6.1.158-1) bookworm-security; urgency=high

  * [rt] Update to 6.1.158-rt58
`

func TestParseChangelog(t *testing.T) {
	entries, err := parseChangelog(strings.NewReader(changelog))
	require.NoError(t, err)
	require.Equal(t, []changelogEntry{
		{version: "6.1.192-3"},
		{version: "6.1.177-1", rt: []string{
			`Refresh "ARM: enable irq in translation/section permission fault handlers"`,
			`Drop "debugobjects,locking: Annotate debug_object_fill_pool() wait type violation" (applied upstream)`,
		}},
		{version: "6.1.176-1", rt: []string{"Update to 6.1.176-rt64:"}},
		{version: "6.1.158-1", rt: []string{"Update to 6.1.158-rt58"}},
	}, entries)
	rt, err := rtVersionOf(entries)
	require.NoError(t, err)
	require.Equal(t, "-rt64", rt)

	_, err = rtVersionOf(entries[:2])
	require.ErrorContains(t, err, "no [rt] Update")
	_, err = parseChangelog(strings.NewReader("junk\n"))
	require.ErrorContains(t, err, "before the first upload")
	_, err = parseChangelog(strings.NewReader("\n"))
	require.ErrorContains(t, err, "no upload")
}

func TestReadSeriesPatch(t *testing.T) {
	p := readSeriesPatch("0040-ARM.patch", []byte(`From: A <a@example.org>
Date: Thu, 1 Jan 2026 00:00:00 +0000
Subject: [PATCH 40/72] ARM: enable irq in translation/section permission fault
 handlers
Origin: https://example.org

---
 arch/arm/mm/fault.c | 6 ++++++
diff --git a/arch/arm/mm/fault.c b/arch/arm/mm/fault.c
--- a/arch/arm/mm/fault.c
+++ b/arch/arm/mm/fault.c
@@ -1 +1 @@
-a
+b
diff --git a/localversion-rt b/localversion-rt
new file mode 100644
--- /dev/null
+++ b/localversion-rt
@@ -0,0 +1 @@
+-rt1
`))
	require.Equal(t, seriesPatch{
		name:    "0040-ARM.patch",
		subject: "ARM: enable irq in translation/section permission fault handlers",
		files:   []string{"arch/arm/mm/fault.c", "localversion-rt"},
	}, p)
}

func TestPlanRTSeries(t *testing.T) {
	series := []seriesPatch{
		{name: "0040-arm.patch", subject: "ARM: enable irq in translation/section permission fault handlers", files: []string{"arch/arm/mm/fault.c"}},
		{name: "0056-debugobjects.patch", subject: "debugobjects,locking: Annotate debug_object_fill_pool() wait type violation", files: []string{"include/linux/lockdep.h"}},
		{name: "0060-i915.patch", subject: "drm/i915: Do not disable preemption for resets", files: []string{"drivers/gpu/drm/i915/gt/intel_reset.c"}},
		{name: "0071-kvm.patch", subject: "kvm/vmx: guard regparm(0) on vmread_error_trampoline for x86_32 only", files: []string{"arch/x86/kvm/vmx/vmx_ops.h"}},
	}
	entries, err := parseChangelog(strings.NewReader(changelog))
	require.NoError(t, err)
	skip, err := planRTSeries(series, entries[:2])
	require.NoError(t, err)
	require.Equal(t, []RTSkipped{
		{Patch: "0040-arm.patch", Why: "refreshed in 6.1.177-1, another architecture's files only", Files: []string{"arch/arm/mm/fault.c"}},
		{Patch: "0056-debugobjects.patch", Why: "dropped in 6.1.177-1", Files: []string{"include/linux/lockdep.h"}},
	}, skip)
	require.Equal(t, []string{"arch/arm/mm/fault.c"}, (&RTSeries{Skipped: skip}).Inexact())

	for _, tc := range []struct{ name, item, fails string }{
		{"a newer rt version", "Update to 6.1.190-rt66", "cannot follow"},
		{"an added patch", `Add "sched: something"`, "cannot follow"},
		{"an unknown patch", `Drop "no such patch"`, "names no patch"},
		{"an x86 file refreshed", `Refresh "kvm/vmx: guard regparm(0) on vmread_error_trampoline for x86_32 only"`, "an amd64 tree's file"},
		{"a common file refreshed", `Refresh "drm/i915: Do not disable preemption for resets"`, "an amd64 tree's file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := planRTSeries(series, []changelogEntry{{version: "6.1.190-1", rt: []string{tc.item}}})
			require.ErrorIs(t, err, ErrRTTree)
			require.ErrorContains(t, err, tc.fails)
		})
	}
}

func TestReadSeries(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, series string
		want         []string
		fails        string
	}{
		{"plain", "# rt\n0001-a.patch\n\n0002-b.patch\n", []string{"0001-a.patch", "0002-b.patch"}, ""},
		{"a strip level", "0001-a.patch -p0\n", nil, "unexpected line"},
		{"a subdirectory", "features/0001-a.patch\n", nil, "unexpected line"},
		{"empty", "# nothing\n", nil, "no patches"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "series")
			require.NoError(t, os.WriteFile(path, []byte(tc.series), 0o644))
			got, err := readSeries(path)
			if tc.fails != "" {
				require.ErrorContains(t, err, tc.fails)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func FuzzParseChangelog(f *testing.F) {
	f.Add([]byte(changelog))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := parseChangelog(bytes.NewReader(data))
		if err == nil {
			planRTSeries(nil, entries) //nolint:errcheck // must not panic
		}
	})
}
