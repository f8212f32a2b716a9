// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package cliprogress

import "io"

// IsTerminal is false off Linux: plain progress lines.
func IsTerminal(io.Writer) bool { return false }
