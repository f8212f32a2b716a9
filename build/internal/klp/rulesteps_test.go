// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRuleSteps(t *testing.T) {
	const (
		hook    = "/w/klpkit-hook.o"
		compile = "gcc -c -o /w/klpkit-hook.o /w/klpkit-hook.c"
		objtool = "./tools/objtool/objtool orc generate --module --retpoline /w/klpkit-hook.o"
		modver  = "if objdump -h /w/klpkit-hook.o | grep -q __ksymtab; then gcc -E x.c | scripts/genksyms/genksyms > /w/.tmp_klpkit-hook.ver; mv -f /w/.tmp_klpkit-hook.o /w/klpkit-hook.o; fi"
		check   = "/usr/src/linux-headers-6.1.0-57-common/scripts/check-local-export /w/klpkit-hook.o"
		mod     = "{ echo  /w/klpkit-hook.o /w/klpkit-patch-0.o; echo; } > /w/m.mod"
	)
	for _, tc := range []struct {
		name string
		log  string
		want []string
	}{
		{"5.10: objtool and modversions after the compile",
			"  " + compile + "\n   " + objtool + "\n  " + modver + "\n  cat /w/klpkit-patch-0.o_shipped > /w/klpkit-patch-0.o\n  " + objtool + "\n",
			[]string{objtool, modver}},
		{"6.1: a check and appends to the .cmd file",
			"  " + compile + "\n  " + check + "\n  { echo ; echo '/w/klpkit-hook.o: $(wildcard ./tools/objtool/objtool)' ; } >> /w/.klpkit-hook.o.cmd\n  " + mod + "\n",
			nil},
		{"tool messages are skipped",
			"  " + compile + "\r\n/w/klpkit-hook.o: warning: objtool: x\n\n  " + objtool + "\n",
			[]string{objtool}},
		{"an indented message ends the steps",
			"  " + compile + "\n      |     ^~~~\n  " + objtool + "\n",
			nil},
		{"a longer name is another file", "  " + compile + "\n  touch /w/klpkit-hook.o.bak\n  " + objtool + "\n", nil},
		{"no compile in the log", "  " + objtool + "\n", nil},
		{"no log", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, ruleSteps(tc.log, compile, hook, []string{mod}))
		})
	}
}
