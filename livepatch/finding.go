// SPDX-License-Identifier: Apache-2.0

package livepatch

import "fmt"

// Severity says whether a finding stops the build or needs care.
type Severity int

const (
	// SeverityWarning: the patch can work, but the author should check.
	SeverityWarning Severity = iota + 1
	// SeverityError: the change cannot work as a live patch.
	SeverityError
)

func (s Severity) String() string {
	switch s {
	case SeverityWarning:
		return "warning"
	case SeverityError:
		return "error"
	}
	return "unknown"
}

// Rule ids: stable strings callers and tests can match on.
const (
	RuleAsmFile           = "asm-file"
	RuleNonPatchablePath  = "non-patchable-path"
	RuleDocumentation     = "documentation-only"
	RuleNonSource         = "non-source-file"
	RuleBuildFile         = "build-file"
	RuleInitCode          = "init-code"
	RuleInitData          = "init-data"
	RuleHeaderStruct      = "header-struct-layout"
	RuleHeaderInline      = "header-inline-function"
	RuleHeaderPrototype   = "header-prototype"
	RuleHeaderMacro       = "header-macro"
	RuleStructLayout      = "struct-layout"
	RuleDataChanged       = "data-changed"
	RuleDataNew           = "data-new"
	RuleDataRemoved       = "data-removed"
	RuleStaticLocal       = "static-local"
	RuleOnceMacro         = "once-macro"
	RuleOnceStaticKey     = "once-static-key"
	RuleSyscallDefine     = "syscall-define"
	RuleFunctionSignature = "function-signature"
	RuleInlineNotrace     = "inline-notrace"
	RuleLineShift         = "line-shift"
	RuleNoCodeChange      = "no-code-change"
)

// Finding is one thing Validate has to say about a patch.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Patch    string   `json:"patch"`   // the patch's Source
	File     string   `json:"file"`    // tree path; "" for findings about the whole patch set
	Line     int      `json:"line"`    // line in File (patched side for added lines, original side for removed ones); 0 for the whole file
	Message  string   `json:"message"` // what the change does and what to do about it
}

func (f Finding) String() string {
	loc := f.File
	if f.Line > 0 {
		loc = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	if loc == "" {
		loc = f.Patch
	}
	return fmt.Sprintf("%s: %s: %s [%s]", loc, f.Severity, f.Message, f.Rule)
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}
