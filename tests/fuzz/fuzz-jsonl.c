/*
 * The reader of annals' JSON lines (import_jsonl_row()): the input is
 * one line.  A parsed line is an event the daemon accepts as it is; a
 * refused one leaves a cleared event and an error fit for the wire.
 */
#include <stdlib.h>
#include <string.h>

#include "../../client/import.h"
#include "fuzz.h"

void
fuzz_jsonl(const uint8_t *data, size_t size)
{
	static const struct event	 zero;
	struct event			 ev;
	struct aerr			 err;
	char				*line;
	int				 r;

	if ((line = malloc(size == 0 ? 1 : size)) == NULL)
		abort();
	if (size > 0)
		memcpy(line, data, size);
	r = import_jsonl_row(line, size, &fuzz_import_opts, &ev, &err);
	if (r == -1) {
		fuzz_check_error(&err, utf8_valid(line, size));
		FUZZ_CHECK(memcmp(&ev, &zero, sizeof ev) == 0);
	} else {
		memset(line, 0xa5, size);
		fuzz_check_import(&ev, r);
		record_clear(&ev);
	}
	free(line);
}

FUZZ_ENTRY(jsonl)
