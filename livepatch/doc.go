// Package livepatch turns patch files into something the build can trust:
// it parses unified diffs, applies them to a tree (dry run first), combines
// several into one cumulative patch, and validates them against the rules a
// livepatch must follow, reporting findings in the patch author's terms. It
// also owns livepatch module naming and metadata.
package livepatch
