// SPDX-License-Identifier: Apache-2.0

package modname

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKernel(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"livepatch_x":            "livepatch_x",
		"livepatch-cve-2024-1":   "livepatch_cve_2024_1",
		"a-b_c":                  "a_b_c",
		"nf_conntrack-ftp.ko.xz": "nf_conntrack_ftp.ko.xz", // no suffix handling: callers trim
	} {
		assert.Equal(t, want, Kernel(in), "%q", in)
	}
}
