/* move-part-inlined the other way round: the patch makes GCC split a
 * .part clone out of code that was inlined whole. */
#ifdef PATCHED
#undef PATCHED
#else
#define PATCHED
#endif
#include "move-part-inlined.c"
