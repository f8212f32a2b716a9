/*
 * Fixture of build/modversions_test.go: an object with one export whose
 * prototype reaches struct widget. -DPATCHED completes the type, as a new
 * #include would, which changes the export's symbol version. Preprocessed
 * with -D__GENKSYMS__, the export macro leaves a marker that the test's
 * stand-in for genksyms reads; compiled, it leaves a __ksymtab_ symbol,
 * which is what kbuild looks for to run the CRC generator.
 */
struct widget;
#ifdef PATCHED
struct widget {
	int size;
};
#endif

#ifdef __GENKSYMS__
#define EXPORT_SYMBOL(sym) fixture_export_##sym
#else
#define EXPORT_SYMBOL(sym) const void *__ksymtab_##sym = &sym
#endif

int widget_valid(struct widget *w)
{
	return w != 0;
}
EXPORT_SYMBOL(widget_valid);
