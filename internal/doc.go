// SPDX-License-Identifier: Apache-2.0

// Package internal holds helpers that no user of klpkit should import: the
// QEMU test lab, the ELF writer and shared test helpers live below it.
package internal
