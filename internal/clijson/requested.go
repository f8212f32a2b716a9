// SPDX-License-Identifier: Apache-2.0

package clijson

import (
	"strconv"
	"strings"
)

// Requested reports whether args (before a "--") ask for --json, as
// --json or --json=BOOL, so that a command line the flag parser refuses
// is still answered in JSON. It looks before parsing because the parse
// itself may fail.
func Requested(args []string) bool {
	on := false
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--json" {
			on = true
		} else if v, ok := strings.CutPrefix(a, "--json="); ok {
			// pflag takes the last value; a bad one is the parser's error,
			// answered in JSON since it was asked for.
			b, err := strconv.ParseBool(v)
			on = b || err != nil
		}
	}
	return on
}
