// SPDX-License-Identifier: Apache-2.0

package main

import "golang.org/x/sys/unix"

// hostRelease is uname -r of the running kernel.
func hostRelease() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", err
	}
	return unix.ByteSliceToString(u.Release[:]), nil
}
