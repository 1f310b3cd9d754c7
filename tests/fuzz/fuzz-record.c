/*
 * record_decode() on any msgpack object that passes the frame check,
 * which is all the daemon ever gives it.
 *
 * Promises checked: a decoded event is within every EVENT_MAX_* limit,
 * holds only valid UTF-8 and a sound date span, and packs to a record
 * that decodes to the same event (packing it again gives the same
 * bytes); a refused record leaves the event cleared and an error fit for
 * the wire.
 */
#include <stdlib.h>
#include <string.h>

#include "../../proto/proto.h"
#include "fuzz.h"

void
fuzz_record(const uint8_t *data, size_t size)
{
	static const struct event	 zero;
	msgpack_unpacked		 u;
	struct event			 ev;
	struct aerr			 err;
	unsigned char			*buf;

	if (fuzz_unpack(data, size, &u, &buf) != 0) {
		msgpack_unpacked_destroy(&u);
		free(buf);
		return;
	}
	if (record_decode(&u.data, &ev, &err) != 0) {
		fuzz_check_error(&err, 1);
		FUZZ_CHECK(memcmp(&ev, &zero, sizeof ev) == 0);
		msgpack_unpacked_destroy(&u);
		free(buf);
		return;
	}
	/* Nothing decoded may point into the frame. */
	msgpack_unpacked_destroy(&u);
	memset(buf, 0xa5, size);
	free(buf);
	fuzz_check_event(&ev);
	record_clear(&ev);
}

FUZZ_ENTRY(record)
