//go:build !linux

package main

import "io"

// isTerminal is false off Linux: plain progress lines.
func isTerminal(io.Writer) bool { return false }
