/*
 * The ICEWS row parser (import_icews_format.row): a TSV header line, then
 * one row.
 * See tests/fuzz/import.c for how the input is cut and what is checked.
 */
#include "../../client/import.h"
#include "fuzz.h"

void
fuzz_icews(const uint8_t *data, size_t size)
{
	fuzz_import(&import_icews_format, '\t', 0, 1, data, size);
}

FUZZ_ENTRY(icews)
