/*
 * The reader of annals' own CSV (import_split_feed() and
 * import_csv_format.row): a quoted header line, then one record.
 * See tests/fuzz/import.c for how the input is cut and what is checked.
 */
#include "../../client/import.h"
#include "fuzz.h"

void
fuzz_csv(const uint8_t *data, size_t size)
{
	fuzz_import(&import_csv_format, ',', 1, 1, data, size);
}

FUZZ_ENTRY(csv)
