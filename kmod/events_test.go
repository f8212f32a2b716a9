// SPDX-License-Identifier: Apache-2.0

package kmod_test

import (
	"testing"

	"github.com/klpkit/klpkit/kmod"
	"github.com/stretchr/testify/assert"
)

func TestEventKindString(t *testing.T) {
	assert.Equal(t, "loading", kmod.EventLoading.String())
	assert.Equal(t, "retired", kmod.EventRetired.String())
	// Values outside the enum (a caller's zero-based arithmetic, a newer
	// kind) print a placeholder instead of panicking.
	assert.Equal(t, "event", kmod.EventKind(-1).String())
	assert.Equal(t, "event", kmod.EventKind(99).String())
}
