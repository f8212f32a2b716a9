// Package objdiff compares the original and patched object of one kernel
// translation unit at the ELF level, decides which functions changed, and
// emits a relocatable object holding exactly those functions and what they
// need, with every other reference left for the linker stage.
package objdiff
