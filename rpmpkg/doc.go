// Package rpmpkg writes livepatch RPMs and reads RPMs safely: header
// inspection, digest verification and payload extraction of source and
// debuginfo packages, refusing entries that would escape the destination.
package rpmpkg
