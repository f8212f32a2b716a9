// SPDX-License-Identifier: Apache-2.0

package kver

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFromRelease(t *testing.T) {
	for release, want := range map[string]Version{
		"4.19.325-1.ph3":           {4, 19},
		"4.19.247-rt108-10.ph3-rt": {4, 19},
		"5.0.21":                   {5, 0},
		"5.1":                      {5, 1},
		"5.10.118-2.ph4":           {5, 10},
		"6.1.0-56-amd64":           {6, 1},
		"6.1.192-1.ph5":            {6, 1},
	} {
		v, ok := FromRelease(release)
		assert.True(t, ok, release)
		assert.Equal(t, want, v, release)
	}
	for _, bad := range []string{"", "r", "6", "6.", ".1", "x.1", "6.x", "-1.2", "0.9", "999.1", "6.999", "1.001", "+4.19", "04.19", "4.+19"} {
		_, ok := FromRelease(bad)
		assert.False(t, ok, bad)
	}
}

func TestBefore(t *testing.T) {
	assert.True(t, Version{4, 19}.Before(AtomicReplace))
	assert.True(t, Version{5, 0}.Before(AtomicReplace))
	assert.False(t, Version{5, 1}.Before(AtomicReplace))
	assert.False(t, Version{5, 10}.Before(AtomicReplace))
	assert.False(t, Version{6, 0}.Before(Version{5, 8}))
	assert.Equal(t, "4.19", Version{4, 19}.String())
}

// FuzzFromRelease: release strings come from users and vmlinux banners;
// the reader never panics and only accepts a leading <major>.<minor>.
func FuzzFromRelease(f *testing.F) {
	for _, s := range []string{"4.19.325-1.ph3", "6.1.0-56-amd64", "5.1", "r", "6.", "99999999999999999999.1", "1.001", "+4.19"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, release string) {
		v, ok := FromRelease(release)
		if ok && (v.Major <= 0 || v.Minor < 0 || !strings.HasPrefix(release, v.String())) {
			t.Fatalf("%q read as %v", release, v)
		}
	})
}
