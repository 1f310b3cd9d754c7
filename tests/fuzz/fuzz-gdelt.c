/*
 * The GDELT row parser (import_gdelt_format.row): one TSV row without a
 * header, its columns named by the layout of its column count (57 or 58
 * for GDELT 1.0, 61 for 2.0).
 * See tests/fuzz/import.c for how the input is cut and what is checked.
 */
#include "../../client/import.h"
#include "fuzz.h"

void
fuzz_gdelt(const uint8_t *data, size_t size)
{
	fuzz_import(&import_gdelt_format, '\t', 0, 0, data, size);
}

FUZZ_ENTRY(gdelt)
