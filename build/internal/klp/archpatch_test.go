// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/elfobj"
	"github.com/klpkit/klpkit/internal/needtest"
)

// archObject compiles testdata/archpatch.c (see its comment) and renames
// its hidden references to .klp.sym symbols of obj ("" keeps them as
// plain undefined symbols, as for exports).
func archObject(t *testing.T, obj string) *elfobj.File {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		needtest.Missing(t, "needs gcc (Debian package gcc) to compile testdata/archpatch.c")
	}
	out := filepath.Join(t.TempDir(), "archpatch.o")
	b, err := exec.Command(gcc, "-c", "-O2", "-ffunction-sections", "-fno-pic", "-fno-asynchronous-unwind-tables",
		"-o", out, filepath.Join("testdata", "archpatch.c")).CombinedOutput()
	require.NoError(t, err, "%s", b)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	f, err := elfobj.Parse(data)
	require.NoError(t, err)
	if obj != "" {
		for _, name := range []string{"hidden_helper", "hidden_ops"} {
			require.NoError(t, RenameUndefined(f, name, KlpSymbolName(obj, name, 0)))
		}
	}
	return f
}

// archErrors returns the *ArchRelocationError values err joins, sorted by
// function.
func archErrors(t *testing.T, err error) []ArchRelocationError {
	t.Helper()
	var out []ArchRelocationError
	if err == nil {
		return nil
	}
	require.ErrorIs(t, err, ErrArchKlpRelocation)
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ae *ArchRelocationError
		require.True(t, errors.As(e, &ae), "%v", e)
		out = append(out, *ae)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Function < out[j].Function })
	return out
}

func TestCheckArchPatching(t *testing.T) {
	lateVmlinux := []ArchRelocationError{
		{Function: "paravirt_uses_hidden", Section: ".parainstructions", Symbol: ".klp.sym.vmlinux.hidden_ops,0"},
		{Function: "replacement_calls_hidden", Section: ".altinstructions", Replacement: true, Symbol: ".klp.sym.vmlinux.hidden_helper,0"},
		{Function: "site_calls_hidden", Section: ".altinstructions", Symbol: ".klp.sym.vmlinux.hidden_helper,0"},
	}
	lateModule := []ArchRelocationError{
		{Function: "paravirt_uses_hidden", Section: ".parainstructions", Symbol: ".klp.sym.binfmt_misc.hidden_ops,0"},
		{Function: "replacement_calls_hidden", Section: ".altinstructions", Replacement: true, Symbol: ".klp.sym.binfmt_misc.hidden_helper,0"},
		{Function: "site_calls_hidden", Section: ".altinstructions", Symbol: ".klp.sym.binfmt_misc.hidden_helper,0"},
	}
	for _, tc := range []struct {
		name         string
		obj          string
		vmlinuxEarly bool
		want         []ArchRelocationError
	}{
		{"vmlinux before 5.8", "vmlinux", false, lateVmlinux},
		{"vmlinux from 5.8", "vmlinux", true, nil},
		{"module target, any kernel", "binfmt_misc", true, lateModule},
		{"module target before 5.8", "binfmt_misc", false, lateModule},
		{"exports only", "", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckArchPatching(archObject(t, tc.obj), tc.vmlinuxEarly)
			assert.Equal(t, tc.want, archErrors(t, err))
		})
	}
}

func TestArchRelocationErrorMessage(t *testing.T) {
	err := CheckArchPatching(archObject(t, "vmlinux"), false)
	require.ErrorIs(t, err, ErrArchKlpRelocation)
	msg := err.Error()
	for _, want := range []string{
		"function replacement_calls_hidden: the replacement code of an alternative refers to .klp.sym.vmlinux.hidden_helper,0, which the livepatch core resolves only after the kernel patched that code at module load",
		"function site_calls_hidden: the alternative site refers to .klp.sym.vmlinux.hidden_helper,0",
		"function paravirt_uses_hidden: the paravirt site refers to .klp.sym.vmlinux.hidden_ops,0",
		"refer only to exported symbols there, or build for a kernel from 5.8 on",
	} {
		assert.Contains(t, msg, want)
	}
}

// TestCheckArchPatchingCutShort: an entry table shorter than its
// relocations say is an error, not a panic.
func TestCheckArchPatchingCutShort(t *testing.T) {
	for _, name := range []string{".altinstructions", ".parainstructions"} {
		f := archObject(t, "vmlinux")
		sec := f.Section(name)
		require.NotNil(t, sec)
		sec.Data = sec.Data[:4]
		err := CheckArchPatching(f, false)
		require.Error(t, err, name)
		assert.NotErrorIs(t, err, ErrArchKlpRelocation)
		assert.Contains(t, err.Error(), name+" entry at")
	}
}
