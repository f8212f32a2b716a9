// SPDX-License-Identifier: Apache-2.0

package cliprogress

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPlainLines(t *testing.T) {
	var out, errs strings.Builder
	d := New(&out, &errs, false)
	d.Status("Building patch module: x.ko")
	d.Step("compile", 1, 2, "fs/proc/cmdline.o")
	d.Warn("careful")
	d.Finish()
	assert.Equal(t, "Building patch module: x.ko\n", out.String())
	assert.Equal(t, "[compile 1/2] fs/proc/cmdline.o\ncareful\n", errs.String())
}

func TestTerminalBarIsRedrawn(t *testing.T) {
	var out, errs strings.Builder
	d := New(&out, &errs, true)
	d.Step("compile", 1, 4, "a.o")
	d.Step("compile", 4, 4, strings.Repeat("x", 80))
	d.Status("done")
	d.Finish()
	assert.Equal(t, "done\n", out.String())
	e := errs.String()
	assert.Contains(t, e, "[=====>              ] compile 1/4 a.o")
	assert.Contains(t, e, "\r\033[K[====================] compile 4/4 "+strings.Repeat("x", 49)+"…")
	assert.True(t, strings.HasSuffix(e, "\r\033[K"), "the bar is cleared before a status line")
}

func TestSizeAndBarEdges(t *testing.T) {
	assert.Equal(t, "?", Size(-1))
	assert.Equal(t, "512 B", Size(512))
	assert.Equal(t, "1.5 KiB", Size(1536))
	assert.Equal(t, "3.0 MiB", Size(3<<20))
	assert.Equal(t, "[>   ]", bar(0, 0, 4))
	assert.Equal(t, "[====]", bar(9, 4, 4))
}

func TestHideSteps(t *testing.T) {
	var out, errs strings.Builder
	d := New(&out, &errs, true)
	d.HideSteps()
	d.Step("compile", 1, 2, "a.o")
	d.Warn("careful")
	d.Status("SUCCESS")
	d.Finish()
	assert.Equal(t, "SUCCESS\n", out.String())
	assert.Equal(t, "careful\n", errs.String(), "no bar, warnings still shown")
}
