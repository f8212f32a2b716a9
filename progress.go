// SPDX-License-Identifier: Apache-2.0

package klpkit

// Progress is one report from a long klpkit operation. Everything that
// reports progress (build.Run and build.Check, photon's downloads and
// Prepare, build/photonsource, kmod's Load and Unload, rpmpkg's Extract)
// takes a ProgressFunc, so that one function can show them all; the
// package's own event, with everything it knows, is in Detail.
type Progress struct {
	// Op is the operation reporting: OpBuild, OpDownload, OpPrepare,
	// OpSource, OpLoad, OpUnload or OpExtract.
	Op Op `json:"op"`
	// Step is where in Op: a build stage, a prepare or source step, a
	// kmod event kind ("compile", "extract", "busy-retry", ...).
	Step string `json:"step"`
	// Subject is what the report is about, when it is about one thing: a
	// file, an object or a module.
	Subject string `json:"subject"`
	// Message says it in words, for a status line ("" when the numbers
	// say all, as for download bytes).
	Message string `json:"message"`
	// Done and Total count Unit: Total is 0 when the report counts
	// nothing and -1 when the total is unknown.
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
	Unit  Unit  `json:"unit"`
	// Detail is the package's own event: a build.Event,
	// kernelsrc.DownloadEvent, specprep.PrepareEvent, kmod.Event or
	// rpmpkg.ExtractEvent; nil for build/photonsource, whose steps Step and
	// Message describe whole. On picks one type out.
	Detail any `json:"detail,omitempty"`
}

// ProgressFunc receives progress reports. klpkit calls it in order and
// never concurrently, on the goroutine of the operation, which waits for
// it: it should return quickly. nil means no reports.
type ProgressFunc func(Progress)

// Op names an operation that reports progress.
type Op string

// The operations that report progress.
const (
	OpBuild    Op = "build"    // build.Run, build.Check
	OpDownload Op = "download" // photon downloads (Repo.Fetch, Cache)
	OpPrepare  Op = "prepare"  // kernelsrc.Prepare
	OpSource   Op = "source"   // build/photonsource: fetch, prepare, kbuild
	OpLoad     Op = "load"     // kmod's Load
	OpUnload   Op = "unload"   // kmod's Unload and UnloadAll
	OpExtract  Op = "extract"  // rpmpkg.Extract
)

// Unit is what Progress.Done and Total count.
type Unit string

// The units progress is counted in.
const (
	UnitNone    Unit = ""        // nothing counted
	UnitSteps   Unit = "steps"   // a stage's start (0 of 1) and end (1 of 1)
	UnitObjects Unit = "objects" // translation units compiled or diffed
	UnitBytes   Unit = "bytes"   // bytes downloaded or written
)

// On returns a ProgressFunc that calls f with each report's Detail that is
// an E, the event type of one package (build.Event, kmod.Event, ...), and
// ignores the others:
//
//	opts.Progress = klpkit.On(func(ev kmod.Event) { ... })
//
// On(nil) is nil: no reports.
func On[E any](f func(E)) ProgressFunc {
	if f == nil {
		return nil
	}
	return func(p Progress) {
		if e, ok := p.Detail.(E); ok {
			f(e)
		}
	}
}
