/*
 * The frame reader as daemon/conn.c runs it: frame_peek() on the stream,
 * frame_check() on each complete body, msgpack_unpack_next() only on a
 * body that passed, then msg_parse().  The input is read twice: as one
 * frame body, and as a stream of prefixed frames.
 *
 * Promises checked: frame_check() passes only bodies that msgpack-c
 * decodes whole, in at most as many objects as the body has bytes and at
 * most PROTO_MAX_DEPTH deep (STYLE P16, P17); every error is fit for the
 * wire; a parsed message has the shape section 3 of PROTOCOL.md gives.
 */
#include <stdlib.h>
#include <string.h>

#include "../../proto/proto.h"
#include "fuzz.h"

/* Small, so that the length check is reached as well as passed. */
#define FUZZ_FRAME_MAX	4096

/* Count the objects of o and find its depth (containers only). */
static void
fuzz_frame_walk(const msgpack_object *o, int depth, size_t *count,
    int *deepest)
{
	uint32_t	i;

	(*count)++;
	if (o->type != MSGPACK_OBJECT_ARRAY && o->type != MSGPACK_OBJECT_MAP)
		return;
	depth++;
	if (depth > *deepest)
		*deepest = depth;
	/* Past the limit the check below fails; do not recurse further. */
	if (depth > PROTO_MAX_DEPTH)
		return;
	if (o->type == MSGPACK_OBJECT_ARRAY) {
		for (i = 0; i < o->via.array.size; i++)
			fuzz_frame_walk(&o->via.array.ptr[i], depth, count,
			    deepest);
	} else {
		for (i = 0; i < o->via.map.size; i++) {
			fuzz_frame_walk(&o->via.map.ptr[i].key, depth, count,
			    deepest);
			fuzz_frame_walk(&o->via.map.ptr[i].val, depth, count,
			    deepest);
		}
	}
}

static void
fuzz_frame_message(const msgpack_object *obj)
{
	struct msg	m;
	struct aerr	err;

	if (msg_parse(obj, &m, &err) != 0) {
		fuzz_check_error(&err, 1);
		FUZZ_CHECK(err.code == AERR_MALFORMED);
		return;
	}
	FUZZ_CHECK(m.type >= MSG_REQUEST && m.type <= MSG_NOTIFY);
	switch (m.type) {
	case MSG_REQUEST:
	case MSG_NOTIFY:
		FUZZ_CHECK(m.method != NULL);
		FUZZ_CHECK(m.params == NULL ||
		    m.params->type == MSGPACK_OBJECT_MAP);
		break;
	case MSG_RESPONSE:
		FUZZ_CHECK(m.error != NULL && m.result != NULL);
		/* What libannals does with an answer. */
		aerr_clear(&err);
		if (msg_error(m.error, &err) != 0) {
			FUZZ_CHECK(err.code != AERR_OK);
			FUZZ_CHECK(strnlen(err.msg, sizeof err.msg) <
			    sizeof err.msg);
		}
		break;
	}
}

/*
 * One complete body, as conn_process() handles it.  It is copied to a
 * buffer of its own size so that ASan sees any read past its end.
 */
static void
fuzz_frame_body(const unsigned char *data, size_t len)
{
	msgpack_unpacked	 u;
	struct aerr		 err;
	unsigned char		*body;
	size_t			 off = 0, count = 0;
	int			 rc, deepest = 0;

	if ((body = malloc(len == 0 ? 1 : len)) == NULL)
		abort();
	if (len > 0)
		memcpy(body, data, len);
	if (frame_check(body, len, &err) != 0) {
		fuzz_check_error(&err, 1);
		FUZZ_CHECK(err.code == AERR_MALFORMED);
		free(body);
		return;
	}
	msgpack_unpacked_init(&u);
	rc = msgpack_unpack_next(&u, (const char *)body, len, &off);
	FUZZ_CHECK(rc == MSGPACK_UNPACK_SUCCESS);
	FUZZ_CHECK(off == len);
	fuzz_frame_walk(&u.data, 0, &count, &deepest);
	FUZZ_CHECK(count <= len);
	FUZZ_CHECK(deepest <= PROTO_MAX_DEPTH);
	fuzz_frame_message(&u.data);
	msgpack_unpacked_destroy(&u);
	free(body);
}

void
fuzz_frame(const uint8_t *data, size_t size)
{
	struct aerr	err;
	uint32_t	len;
	size_t		pos = 0;
	int		rc;

	fuzz_frame_body(data, size);
	while (pos < size) {
		rc = frame_peek(data + pos, size - pos, FUZZ_FRAME_MAX, &len,
		    &err);
		if (rc == -1) {
			/* The boundary is lost: the daemon hangs up. */
			fuzz_check_error(&err, 1);
			FUZZ_CHECK(err.code == AERR_MALFORMED ||
			    err.code == AERR_LIMIT);
			break;
		}
		if (rc == 0) {
			FUZZ_CHECK(size - pos < PROTO_FRAME_HEADER);
			break;
		}
		FUZZ_CHECK(len <= FUZZ_FRAME_MAX);
		if (size - pos - PROTO_FRAME_HEADER < len)
			break;
		fuzz_frame_body(data + pos + PROTO_FRAME_HEADER, len);
		pos += PROTO_FRAME_HEADER + (size_t)len;
	}
}

FUZZ_ENTRY(frame)
