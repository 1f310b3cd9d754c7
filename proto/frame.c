/*
 * Frames: 0xce, a big-endian uint32 length, then exactly one msgpack
 * object of that many bytes.  The prefix is itself a msgpack uint32, so a
 * capture of the stream stays readable by any msgpack tool.
 *
 * frame_check() walks a complete body before msgpack-c sees it: the
 * unpacker allocates a whole array's objects as soon as it reads the
 * header (STYLE P16) and reports deep nesting as out-of-memory (P17), so
 * every count is checked against the bytes that are really there.  A
 * body that passes is safe to give to msgpack_unpack_next(): it holds one
 * object, at most PROTO_MAX_DEPTH deep, whose objects number at most its
 * length in bytes.
 */
#include <inttypes.h>
#include <string.h>

#include "proto.h"

#define FRAME_SCALAR	0	/* everything in the head */
#define FRAME_RAW	1	/* str, bin, ext: n payload bytes follow */
#define FRAME_ARRAY	2	/* n objects follow */
#define FRAME_MAP	3	/* n pairs of objects follow */
#define FRAME_NEVER	4	/* 0xc1, which msgpack never uses */

/* What one type byte announces. */
struct frame_item {
	int		 kind;		/* FRAME_* */
	size_t		 head;		/* up to the payload */
	size_t		 lenbytes;	/* of the length after it */
	uint32_t	 n;		/* length or count in the byte */
	const char	*what;		/* for messages */
};

/* Write the 5-byte frame prefix for a body of len bytes. */
void
frame_header(unsigned char hdr[PROTO_FRAME_HEADER], uint32_t len)
{
	hdr[0] = PROTO_FRAME_PREFIX;
	hdr[1] = (len >> 24) & 0xff;
	hdr[2] = (len >> 16) & 0xff;
	hdr[3] = (len >> 8) & 0xff;
	hdr[4] = len & 0xff;
}

/*
 * Look at the start of a stream: 1 with *len set when the prefix is there
 * and acceptable, 0 when more bytes are needed, -1 when the stream is not
 * ours or the frame is over max; after -1 the frame boundary is lost.  A
 * wrong first byte is reported as soon as it arrives.
 */
int
frame_peek(const unsigned char *buf, size_t avail, size_t max, uint32_t *len,
    struct aerr *err)
{
	uint32_t	n;

	if (avail == 0)
		return (0);
	if (buf[0] != PROTO_FRAME_PREFIX) {
		aerr_set(err, AERR_MALFORMED,
		    "frame must start with 0x%02x, got 0x%02x", PROTO_FRAME_PREFIX,
		    buf[0]);
		return (-1);
	}
	if (avail < PROTO_FRAME_HEADER)
		return (0);
	n = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 |
	    (uint32_t)buf[3] << 8 | (uint32_t)buf[4];
	if (n > max) {
		aerr_set(err, AERR_LIMIT, "frame of %" PRIu32 " bytes exceeds "
		    "limit %zu", n, max);
		return (-1);
	}
	*len = n;
	return (1);
}

static void
frame_classify(unsigned char b, struct frame_item *it)
{
	memset(it, 0, sizeof *it);
	it->kind = FRAME_SCALAR;
	it->head = 1;
	if (b <= 0x7f || b >= 0xe0)
		return;		/* fixint */
	if (b <= 0x8f) {
		it->kind = FRAME_MAP;
		it->n = b & 0x0f;
		return;
	}
	if (b <= 0x9f) {
		it->kind = FRAME_ARRAY;
		it->n = b & 0x0f;
		return;
	}
	if (b <= 0xbf) {
		it->kind = FRAME_RAW;
		it->n = b & 0x1f;
		it->what = "str";
		return;
	}
	switch (b) {
	case 0xc0:		/* nil, false, true */
	case 0xc2:
	case 0xc3:
		break;
	case 0xc1:
		it->kind = FRAME_NEVER;
		break;
	case 0xc4:		/* bin 8/16/32 */
	case 0xc5:
	case 0xc6:
		it->kind = FRAME_RAW;
		it->lenbytes = (size_t)1 << (b - 0xc4);
		it->what = "bin";
		break;
	case 0xc7:		/* ext 8/16/32: length, then the ext type */
	case 0xc8:
	case 0xc9:
		it->kind = FRAME_RAW;
		it->lenbytes = (size_t)1 << (b - 0xc7);
		it->head = 1 + it->lenbytes + 1;
		it->what = "ext";
		return;
	case 0xca:		/* float 32/64 */
		it->head = 5;
		break;
	case 0xcb:
		it->head = 9;
		break;
	case 0xcc:		/* uint and int 8/16/32/64 */
	case 0xcd:
	case 0xce:
	case 0xcf:
		it->head = 1 + ((size_t)1 << (b - 0xcc));
		break;
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3:
		it->head = 1 + ((size_t)1 << (b - 0xd0));
		break;
	case 0xd4:		/* fixext 1..16: ext type, then data */
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		it->head = 2 + ((size_t)1 << (b - 0xd4));
		break;
	case 0xd9:		/* str 8/16/32 */
	case 0xda:
	case 0xdb:
		it->kind = FRAME_RAW;
		it->lenbytes = (size_t)1 << (b - 0xd9);
		it->what = "str";
		break;
	case 0xdc:		/* array 16/32 */
	case 0xdd:
		it->kind = FRAME_ARRAY;
		it->lenbytes = (size_t)2 << (b - 0xdc);
		break;
	case 0xde:		/* map 16/32 */
	case 0xdf:
		it->kind = FRAME_MAP;
		it->lenbytes = (size_t)2 << (b - 0xde);
		break;
	}
	if (it->lenbytes != 0)
		it->head = 1 + it->lenbytes;
}

/*
 * Check that body holds exactly one well-formed msgpack object whose
 * counts and lengths fit in it; AERR_MALFORMED otherwise.
 */
int
frame_check(const unsigned char *body, size_t len, struct aerr *err)
{
	size_t	used;

	if (frame_object(body, len, &used, err) != 0)
		return (-1);
	if (used != len) {
		aerr_set(err, AERR_MALFORMED, "trailing bytes after message");
		return (-1);
	}
	return (0);
}

/*
 * Walk the one msgpack object at the start of body (len bytes) and set
 * *used to its length; AERR_MALFORMED when it is not well formed or its
 * counts and lengths do not fit in len.
 */
int
frame_object(const unsigned char *body, size_t len, size_t *used,
    struct aerr *err)
{
	return (frame_object_at(body, len, 0, used, err));
}

/*
 * frame_object() of an object that sits in outer arrays and maps of its
 * frame: it may itself nest only PROTO_MAX_DEPTH - outer deep, or the
 * frame would not pass the check.
 */
int
frame_object_at(const unsigned char *body, size_t len, int outer,
    size_t *used, struct aerr *err)
{
	struct frame_item	 it;
	uint64_t		 left[PROTO_MAX_DEPTH + 1];
	size_t			 pos, rest, i;
	unsigned char		 b;
	int			 depth, max = PROTO_MAX_DEPTH - outer;

	if (len == 0) {
		aerr_set(err, AERR_MALFORMED, "empty frame");
		return (-1);
	}
	/* left[d]: objects still owed to the container open at depth d. */
	depth = 0;
	left[0] = 1;
	pos = 0;
	for (;;) {
		while (depth > 0 && left[depth] == 0)
			depth--;
		if (left[depth] == 0)
			break;
		if (pos == len)
			goto truncated;
		/*
		 * Most of a reply is fixints, fixstrs and nil: handled here,
		 * the rest by frame_classify(), which is four times slower.
		 */
		b = body[pos];
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 ||
		    b == 0xc3) {
			left[depth]--;
			pos++;
			continue;
		}
		if ((b & 0xe0) == 0xa0) {
			left[depth]--;
			pos++;
			if ((size_t)(b & 0x1f) > len - pos) {
				aerr_set(err, AERR_MALFORMED, "str of %u bytes "
				    "exceeds the %zu bytes left", (unsigned)(b & 0x1f),
				    len - pos);
				return (-1);
			}
			pos += b & 0x1f;
			continue;
		}
		frame_classify(b, &it);
		if (it.kind == FRAME_NEVER) {
			aerr_set(err, AERR_MALFORMED,
			    "invalid type byte 0x%02x at offset %zu", b, pos);
			return (-1);
		}
		if (len - pos < it.head)
			goto truncated;
		for (i = 0; i < it.lenbytes; i++)
			it.n = it.n << 8 | body[pos + 1 + i];
		left[depth]--;
		pos += it.head;
		rest = len - pos;

		switch (it.kind) {
		case FRAME_RAW:
			if (it.n > rest) {
				aerr_set(err, AERR_MALFORMED, "%s of %" PRIu32
				    " bytes exceeds the %zu bytes left",
				    it.what, it.n, rest);
				return (-1);
			}
			pos += it.n;
			break;
		case FRAME_ARRAY:
		case FRAME_MAP:
			/* Each element needs at least one byte. */
			if (it.kind == FRAME_ARRAY && it.n > rest) {
				aerr_set(err, AERR_MALFORMED, "array of %"
				    PRIu32 " elements exceeds the %zu bytes "
				    "left", it.n, rest);
				return (-1);
			}
			if (it.kind == FRAME_MAP && it.n > rest / 2) {
				aerr_set(err, AERR_MALFORMED, "map of %" PRIu32
				    " entries exceeds the %zu bytes left",
				    it.n, rest);
				return (-1);
			}
			if (depth + 1 > max) {
				aerr_set(err, AERR_MALFORMED,
				    "nesting deeper than %d", max);
				return (-1);
			}
			if (it.n != 0) {
				depth++;
				left[depth] = it.kind == FRAME_MAP ?
				    (uint64_t)it.n * 2 : it.n;
			}
			break;
		}
	}
	*used = pos;
	return (0);

truncated:
	aerr_set(err, AERR_MALFORMED, "truncated message");
	return (-1);
}
