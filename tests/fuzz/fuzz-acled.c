/*
 * The ACLED row parser (import_acled_format.row): a quoted CSV header
 * line, then one record.
 * See tests/fuzz/import.c for how the input is cut and what is checked.
 */
#include "../../client/import.h"
#include "fuzz.h"

void
fuzz_acled(const uint8_t *data, size_t size)
{
	fuzz_import(&import_acled_format, ',', 1, 1, data, size);
}

FUZZ_ENTRY(acled)
