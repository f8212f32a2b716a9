// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The boot unit loads every installed module and honours kpatch.enable=0.
func TestBootUnit(t *testing.T) {
	data, err := os.ReadFile("kpatch.service")
	require.NoError(t, err)
	lines := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{
		"ConditionKernelCommandLine=!kpatch.enable=0",
		"Type=oneshot",
		"RemainAfterExit=yes",
		"ExecStart=/usr/sbin/kpatch load --all",
		"WantedBy=multi-user.target",
	} {
		assert.True(t, lines[want], "kpatch.service lacks %q", want)
	}
}
