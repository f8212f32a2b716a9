// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModuleName(t *testing.T) {
	tests := []struct {
		paths    []string
		explicit string
		want     string
	}{
		{[]string{"/tmp/fix-cmdline.patch"}, "", "livepatch-fix-cmdline"},
		{[]string{"CVE-2023-1234.diff"}, "", "livepatch-CVE-2023-1234"},
		{[]string{"a.patch", "b.patch"}, "", "livepatch-patch"},
		{[]string{"x.patch"}, "my_fix.ko", "my_fix"},
		{[]string{"x.patch"}, "bad name!v1.2", "bad-name-v1-2"},
		{[]string{"0001-net: fix.patch"}, "", "livepatch-0001-net--fix"},
		{nil, strings.Repeat("x", 70), strings.Repeat("x", 55)},
	}
	for _, tc := range tests {
		got, err := ModuleName(tc.paths, tc.explicit)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
		assert.NoError(t, (&Module{Name: got}).Validate())
	}
	_, err := ModuleName(nil, "")
	require.ErrorIs(t, err, ErrInvalidModule)
}

func TestAutoLivepatchName(t *testing.T) {
	now := time.Date(2026, 11, 27, 13, 7, 3, 0, time.UTC)
	assert.Equal(t, "CVE-2023-1234_netfil-27Nov2026-13_07_03", AutoLivepatchName("/root/CVE-2023-1234_netfilter.patch", now))
	assert.Equal(t, "fix-05Jan2026-09_00_00", AutoLivepatchName("fix.v2.patch", time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)))
	assert.Equal(t, "a-b-27Nov2026-13_07_03", AutoLivepatchName("a b.patch", now))
	assert.LessOrEqual(t, len(AutoLivepatchName(strings.Repeat("z", 100), now)), 39)
}

func TestKernelModuleName(t *testing.T) {
	assert.Equal(t, "livepatch_fix_cmdline", KernelModuleName("livepatch-fix-cmdline"))
	assert.Equal(t, "livepatch_foo", KernelModuleName("livepatch-foo.ko"))
	assert.Equal(t, "livepatch_foo", (&Module{Name: "livepatch-foo"}).KernelName())
	assert.True(t, (&Module{}).Replace(), "atomic replace is the default")
	assert.False(t, (&Module{NonReplace: true}).Replace())
}

func TestModuleValidate(t *testing.T) {
	bad := []struct{ name, msg string }{
		{"", "empty"},
		{strings.Repeat("a", 56), "56 characters"},
		{"fix.ko", ".ko"},
		{"fix cmdline", "position 4"},
		{"fix/../x", "'/'"},
	}
	for _, tc := range bad {
		err := (&Module{Name: tc.name}).Validate()
		require.ErrorIs(t, err, ErrInvalidModule, tc.name)
		assert.Contains(t, err.Error(), tc.msg)
	}
	assert.NoError(t, (&Module{Name: "livepatch-CVE_2024-1"}).Validate())
}

func TestCDescription(t *testing.T) {
	m := &Module{Description: "Fix \"cmdline\" leak\nin /proc\\x\r\n\tsee CVE??=1\x01\n\n"}
	assert.Equal(t, `Fix \"cmdline\" leak in /proc\\x see CVE\?\?=1`, m.CDescription())
	assert.Equal(t, "", (&Module{}).CDescription())
	assert.Equal(t, "GPL", License)
}
