// SPDX-License-Identifier: Apache-2.0

// Package flock takes exclusive advisory locks on files (flock(2)), waiting
// until they are free or a context ends. The kernel drops a lock when its
// holder dies, so a killed process never leaves one held. Each call opens
// its own file description, so goroutines of one process exclude each
// other too.
package flock
