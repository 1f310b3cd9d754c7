/* Framing: the prefix, and the pre-walk that guards msgpack-c. */
#include "test.h"
#include "../proto/proto.h"

struct bytes {
	const char	*hex;		/* the body, as hex and spaces */
	const char	*msg;		/* the expected error, or NULL */
};

/* Parse "dd 00 10" into buf; returns the number of bytes. */
static size_t
hex_decode(const char *hex, unsigned char *buf, size_t size)
{
	size_t		n = 0;
	unsigned	v;

	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		if (sscanf(hex, "%2x", &v) != 1 || n == size)
			T_FAIL("bad hex in test: %s", hex);
		buf[n++] = (unsigned char)v;
		hex += 2;
	}
	return (n);
}

/* frame_check must accept buf and msgpack-c must then unpack all of it. */
static void
check_unpacks(const unsigned char *buf, size_t len)
{
	struct aerr		err;
	msgpack_unpacked	u;
	size_t			off = 0;
	int			rc;

	aerr_clear(&err);
	rc = frame_check(buf, len, &err);
	T_ASSERTF(rc == 0, "frame_check rejected %zu bytes: %s", len,
	    err.msg);
	msgpack_unpacked_init(&u);
	rc = msgpack_unpack_next(&u, (const char *)buf, len, &off);
	T_EQ_INT(rc, MSGPACK_UNPACK_SUCCESS);
	T_EQ_U64(off, len);
	msgpack_unpacked_destroy(&u);
}

static void
check_rejects(const unsigned char *buf, size_t len, const char *msg)
{
	struct aerr	err;

	aerr_clear(&err);
	T_EQ_INT(frame_check(buf, len, &err), -1);
	T_EQ_INT(err.code, AERR_MALFORMED);
	if (msg != NULL)
		T_EQ_STR(err.msg, msg);
}

TEST(frame_header_is_a_msgpack_uint32)
{
	unsigned char		 hdr[PROTO_FRAME_HEADER];
	msgpack_unpacked	 u;
	size_t			 off = 0;
	uint32_t		 len = 0;
	struct aerr		 err;

	frame_header(hdr, 0x01020304);
	T_EQ_INT(hdr[0], 0xce);
	T_EQ_INT(hdr[1], 0x01);
	T_EQ_INT(hdr[2], 0x02);
	T_EQ_INT(hdr[3], 0x03);
	T_EQ_INT(hdr[4], 0x04);
	T_EQ_INT(frame_peek(hdr, sizeof hdr, UINT32_MAX, &len, &err), 1);
	T_EQ_U64(len, 0x01020304);

	/* Any msgpack reader sees the prefix as the length. */
	msgpack_unpacked_init(&u);
	T_EQ_INT(msgpack_unpack_next(&u, (const char *)hdr, sizeof hdr, &off),
	    MSGPACK_UNPACK_SUCCESS);
	T_EQ_INT(u.data.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	T_EQ_U64(u.data.via.u64, 0x01020304);
	msgpack_unpacked_destroy(&u);

	frame_header(hdr, 0);
	T_EQ_INT(frame_peek(hdr, sizeof hdr, 10, &len, &err), 1);
	T_EQ_U64(len, 0);
	frame_header(hdr, UINT32_MAX);
	T_EQ_INT(frame_peek(hdr, sizeof hdr, UINT32_MAX, &len, &err), 1);
	T_EQ_U64(len, UINT32_MAX);
}

TEST(frame_peek_waits_for_five_bytes)
{
	unsigned char	hdr[PROTO_FRAME_HEADER];
	uint32_t	len = 77;
	struct aerr	err;
	size_t		avail;

	frame_header(hdr, 9);
	for (avail = 0; avail < sizeof hdr; avail++) {
		T_EQ_INT(frame_peek(hdr, avail, PROTO_MAX_FRAME, &len, &err),
		    0);
		T_EQ_U64(len, 77);
	}
	T_EQ_INT(frame_peek(hdr, avail, PROTO_MAX_FRAME, &len, &err), 1);
	T_EQ_U64(len, 9);
}

TEST(frame_peek_rejects_a_bad_prefix_at_once)
{
	/* A request sent without a prefix starts with its array byte. */
	static const unsigned char	raw[] = { 0x94, 0x00, 0x01, 0xa4 };
	uint32_t			len;
	struct aerr			err;

	aerr_clear(&err);
	T_EQ_INT(frame_peek(raw, 1, PROTO_MAX_FRAME, &len, &err), -1);
	T_EQ_INT(err.code, AERR_MALFORMED);
	T_EQ_STR(err.msg, "frame must start with 0xce, got 0x94");
	aerr_clear(&err);
	T_EQ_INT(frame_peek(raw, sizeof raw, PROTO_MAX_FRAME, &len, &err), -1);
	T_EQ_STR(err.msg, "frame must start with 0xce, got 0x94");
}

TEST(frame_peek_rejects_oversized_frames)
{
	unsigned char	hdr[PROTO_FRAME_HEADER];
	uint32_t	len = 0;
	struct aerr	err;

	frame_header(hdr, PROTO_MAX_FRAME);
	T_EQ_INT(frame_peek(hdr, sizeof hdr, PROTO_MAX_FRAME, &len, &err), 1);
	T_EQ_U64(len, PROTO_MAX_FRAME);

	aerr_clear(&err);
	frame_header(hdr, PROTO_MAX_FRAME + 1);
	T_EQ_INT(frame_peek(hdr, sizeof hdr, PROTO_MAX_FRAME, &len, &err), -1);
	T_EQ_INT(err.code, AERR_LIMIT);
	T_EQ_STR(err.msg, "frame of 16777217 bytes exceeds limit 16777216");

	/* A smaller --max-frame applies as given. */
	frame_header(hdr, 1025);
	T_EQ_INT(frame_peek(hdr, sizeof hdr, 1024, &len, &err), -1);
	T_EQ_STR(err.msg, "frame of 1025 bytes exceeds limit 1024");
}

/* Pack one of every msgpack type; the 32-bit classes need big > 65535. */
static void
pack_every_type(msgpack_packer *pk, size_t big)
{
	static const char	 ext[16] = "0123456789abcdef";
	char			*blob;
	size_t			 i;

	if ((blob = calloc(1, big)) == NULL)
		T_FAIL("calloc");
	msgpack_pack_array(pk, 37);
	msgpack_pack_nil(pk);
	msgpack_pack_true(pk);
	msgpack_pack_false(pk);
	msgpack_pack_uint64(pk, 7);			/* fixint */
	msgpack_pack_uint64(pk, 200);			/* uint8 */
	msgpack_pack_uint64(pk, 60000);			/* uint16 */
	msgpack_pack_uint64(pk, 4000000000u);		/* uint32 */
	msgpack_pack_uint64(pk, UINT64_MAX);		/* uint64 */
	msgpack_pack_int64(pk, -5);			/* negative fixint */
	msgpack_pack_int64(pk, -100);			/* int8 */
	msgpack_pack_int64(pk, -30000);			/* int16 */
	msgpack_pack_int64(pk, -2000000000);		/* int32 */
	msgpack_pack_int64(pk, INT64_MIN);		/* int64 */
	msgpack_pack_float(pk, 1.5f);
	msgpack_pack_double(pk, -2.25);
	msgpack_pack_str(pk, 3);			/* fixstr */
	msgpack_pack_str_body(pk, "abc", 3);
	msgpack_pack_str(pk, 40);			/* str8 */
	msgpack_pack_str_body(pk, blob, 40);
	msgpack_pack_str(pk, 300);			/* str16 */
	msgpack_pack_str_body(pk, blob, 300);
	msgpack_pack_str(pk, big);			/* str32 */
	msgpack_pack_str_body(pk, blob, big);
	msgpack_pack_bin(pk, 4);			/* bin8 */
	msgpack_pack_bin_body(pk, blob, 4);
	msgpack_pack_bin(pk, 300);			/* bin16 */
	msgpack_pack_bin_body(pk, blob, 300);
	msgpack_pack_bin(pk, big);			/* bin32 */
	msgpack_pack_bin_body(pk, blob, big);
	for (i = 1; i <= 16; i *= 2) {			/* fixext 1..16 */
		msgpack_pack_ext(pk, i, 5);
		msgpack_pack_ext_body(pk, ext, i);
	}
	msgpack_pack_ext(pk, 3, 1);			/* ext8 */
	msgpack_pack_ext_body(pk, ext, 3);
	msgpack_pack_ext(pk, 300, -1);			/* ext16 */
	msgpack_pack_ext_body(pk, blob, 300);
	msgpack_pack_ext(pk, big, 2);			/* ext32 */
	msgpack_pack_ext_body(pk, blob, big);
	msgpack_pack_array(pk, 0);
	msgpack_pack_array(pk, 20);			/* array16 */
	for (i = 0; i < 20; i++)
		msgpack_pack_uint64(pk, i);
	msgpack_pack_array(pk, big);			/* array32 */
	for (i = 0; i < big; i++)
		msgpack_pack_nil(pk);
	msgpack_pack_map(pk, 0);
	msgpack_pack_map(pk, 1);			/* fixmap */
	msgpack_pack_nil(pk);
	msgpack_pack_nil(pk);
	msgpack_pack_map(pk, 16);			/* map16 */
	for (i = 0; i < 32; i++)
		msgpack_pack_uint64(pk, i);
	msgpack_pack_map(pk, big);			/* map32 */
	for (i = 0; i < big; i++) {
		msgpack_pack_uint64(pk, i);
		msgpack_pack_true(pk);
	}
	free(blob);
}

TEST(frame_check_accepts_every_type)
{
	msgpack_sbuffer		 sbuf;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	size_t			 off = 0, prev;
	uint32_t		 i;
	unsigned char		*body;

	msgpack_sbuffer_init(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	pack_every_type(&pk, 70000);
	body = (unsigned char *)sbuf.data;
	check_unpacks(body, sbuf.size);

	/* The packer used the size classes it was asked for. */
	msgpack_unpacked_init(&u);
	T_EQ_INT(msgpack_unpack_next(&u, sbuf.data, sbuf.size, &off),
	    MSGPACK_UNPACK_SUCCESS);
	T_EQ_INT(u.data.via.array.size, 37);
	T_EQ_INT(u.data.via.array.ptr[18].type, MSGPACK_OBJECT_STR);
	T_EQ_INT(u.data.via.array.ptr[18].via.str.size, 70000);
	T_EQ_INT(u.data.via.array.ptr[32].via.array.size, 70000);
	T_EQ_INT(u.data.via.array.ptr[36].via.map.size, 70000);
	msgpack_unpacked_destroy(&u);

	/* Every element alone is a valid body too. */
	off = 3;	/* after 0xdc and its count */
	T_EQ_INT(body[0], 0xdc);
	for (i = 0; i < 37; i++) {
		prev = off;
		msgpack_unpacked_init(&u);
		T_EQ_INT(msgpack_unpack_next(&u, sbuf.data, sbuf.size, &off),
		    MSGPACK_UNPACK_SUCCESS);
		msgpack_unpacked_destroy(&u);
		check_unpacks(body + prev, off - prev);
	}
	T_EQ_U64(off, sbuf.size);
	msgpack_sbuffer_destroy(&sbuf);
}

TEST(frame_check_accepts_handmade_bodies)
{
	static const char *good[] = {
		"c0",
		"94 00 01 a4 70 69 6e 67 90",	/* the ping example */
		"94 01 01 c0 a4 70 6f 6e 67",	/* and its response */
		"d9 00", "da 00 00", "db 00 00 00 00",	/* empty strs */
		"c4 00", "c6 00 00 00 00",
		"c7 00 05", "c9 00 00 00 01 05 ff",
		"d4 01 ff",
		"d8 01 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f",
		"dc 00 00", "dd 00 00 00 00", "de 00 00", "df 00 00 00 00",
		"dd 00 00 00 02 c0 c0",		/* array32 of 2 */
		"df 00 00 00 01 a1 61 c3",		/* map32 of 1 */
		"cf ff ff ff ff ff ff ff ff", "d3 80 00 00 00 00 00 00 00",
		"ca 3f c0 00 00", "cb 40 09 21 fb 54 44 2d 18",
		"ff", "7f", "e0",
	};
	unsigned char	buf[64];
	size_t		i, len;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		len = hex_decode(good[i], buf, sizeof buf);
		check_unpacks(buf, len);
	}
}

TEST(frame_check_rejects_bad_bodies)
{
	static const struct bytes bad[] = {
		/* P16: 1M elements announced in 5 bytes. */
		{ "dd 00 10 00 00",
		    "array of 1048576 elements exceeds the 0 bytes left" },
		{ "dd ff ff ff ff c0",
		    "array of 4294967295 elements exceeds the 1 bytes left" },
		{ "df 00 10 00 00",
		    "map of 1048576 entries exceeds the 0 bytes left" },
		{ "df ff ff ff ff c0 c0",
		    "map of 4294967295 entries exceeds the 2 bytes left" },
		/* A map of 2 needs 4 objects; 3 bytes cannot hold them. */
		{ "82 c0 c0 c0", "map of 2 entries exceeds the 3 bytes left" },
		{ "93 c0 c0", "array of 3 elements exceeds the 2 bytes left" },
		{ "db 00 00 01 00 61 62 63",
		    "str of 256 bytes exceeds the 3 bytes left" },
		{ "db ff ff ff ff 61",
		    "str of 4294967295 bytes exceeds the 1 bytes left" },
		{ "a5 61 62", "str of 5 bytes exceeds the 2 bytes left" },
		{ "c4 05 61 62", "bin of 5 bytes exceeds the 2 bytes left" },
		{ "c6 00 01 00 00",
		    "bin of 65536 bytes exceeds the 0 bytes left" },
		{ "c7 10 01 61", "ext of 16 bytes exceeds the 1 bytes left" },
		{ "c1", "invalid type byte 0xc1 at offset 0" },
		{ "92 c0 c1", "invalid type byte 0xc1 at offset 2" },
		{ "c0 c0", "trailing bytes after message" },
		{ "90 00", "trailing bytes after message" },
		{ "92 c0", "array of 2 elements exceeds the 1 bytes left" },
		{ "cd 01", "truncated message" },
		{ "cf 00 00 00 00 00 00 00", "truncated message" },
		{ "dc 00", "truncated message" },
		{ "db 00 00", "truncated message" },
		{ "c7 01", "truncated message" },
		{ "d4 01", "truncated message" },
		{ "d8 01 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e",
		    "truncated message" },
		{ "cb 40 09", "truncated message" },
		{ "92 91 c0", "truncated message" },
		{ "91 92 c0", "array of 2 elements exceeds the 1 bytes left" },
	};
	unsigned char	buf[64];
	size_t		i, len;
	struct aerr	err;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		len = hex_decode(bad[i].hex, buf, sizeof buf);
		check_rejects(buf, len, bad[i].msg);
	}
	aerr_clear(&err);
	T_EQ_INT(frame_check(buf, 0, &err), -1);
	T_EQ_INT(err.code, AERR_MALFORMED);
	T_EQ_STR(err.msg, "empty frame");
}

/* depth arrays, each holding the next, the innermost holding inner. */
static size_t
nest(unsigned char *buf, int depth, int inner)
{
	int	i;

	for (i = 0; i < depth - 1; i++)
		buf[i] = 0x91;
	buf[i++] = inner ? 0x91 : 0x90;
	if (inner)
		buf[i++] = 0xc0;
	return ((size_t)i);
}

TEST(frame_check_limits_nesting)
{
	unsigned char	buf[64];
	size_t		len;
	int		depth;

	/* 16 levels, full or empty at the bottom, and as maps. */
	check_unpacks(buf, nest(buf, 16, 1));
	check_unpacks(buf, nest(buf, 16, 0));
	for (depth = 0; depth < 15; depth++) {
		buf[2 * depth] = 0x81;
		buf[2 * depth + 1] = 0xc0;
	}
	buf[2 * depth] = 0x90;
	check_unpacks(buf, 2 * depth + 1);

	check_rejects(buf, nest(buf, 17, 1), "nesting deeper than 16");
	check_rejects(buf, nest(buf, 17, 0), "nesting deeper than 16");
	/* P17: msgpack-c itself fails past 32 with NOMEM. */
	check_rejects(buf, nest(buf, 40, 1), "nesting deeper than 16");

	/* Depth counts open containers, not containers seen. */
	len = 0;
	for (depth = 0; depth < 10; depth++) {
		buf[len++] = 0x92;
		buf[len++] = 0x90;
	}
	buf[len++] = 0xc0;
	check_unpacks(buf, len);
}

/*
 * An object that sits in outer arrays and maps of its frame may nest
 * that much less: as deep as the frame check lets the whole frame.
 */
TEST(frame_object_at_counts_the_outer_containers)
{
	unsigned char	buf[64];
	struct aerr	err;
	size_t		len, used;
	char		msg[32];
	int		outer;

	for (outer = 0; outer < PROTO_MAX_DEPTH; outer++) {
		len = nest(buf, PROTO_MAX_DEPTH - outer, 1);
		T_OK(frame_object_at(buf, len, outer, &used, &err));
		T_EQ_U64(used, len);
		len = nest(buf, PROTO_MAX_DEPTH - outer + 1, 0);
		aerr_clear(&err);
		T_EQ_INT(frame_object_at(buf, len, outer, &used, &err), -1);
		snprintf(msg, sizeof msg, "nesting deeper than %d",
		    PROTO_MAX_DEPTH - outer);
		T_EQ_STR(err.msg, msg);
	}
	/* Within as many as a frame holds, only what is not a container. */
	buf[0] = 0xc0;
	T_OK(frame_object_at(buf, 1, PROTO_MAX_DEPTH, &used, &err));
	buf[0] = 0x90;
	T_EQ_INT(frame_object_at(buf, 1, PROTO_MAX_DEPTH, &used, &err), -1);
}

/* xorshift32: reproducible from t_seed(). */
static uint32_t
rnd(uint32_t *state)
{
	uint32_t	x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return (x);
}

/* A few realistic bodies to mutate. */
static void
pack_samples(msgpack_sbuffer *out, size_t n)
{
	msgpack_packer	pk;
	size_t		i;

	for (i = 0; i < n; i++) {
		msgpack_sbuffer_init(&out[i]);
		msgpack_packer_init(&pk, &out[i], msgpack_sbuffer_write);
	}
	msgpack_packer_init(&pk, &out[0], msgpack_sbuffer_write);
	msg_pack_request(&pk, 7, "put");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, 1);
	mp_pack_str(&pk, "records");
	msgpack_pack_array(&pk, 2);
	msgpack_pack_map(&pk, 3);
	mp_pack_kv_str(&pk, "start", "2015-01-26");
	mp_pack_str(&pk, "actors");
	msgpack_pack_array(&pk, 2);
	mp_pack_str(&pk, "RUS");
	msgpack_pack_map(&pk, 2);
	mp_pack_kv_str(&pk, "name", "EGY");
	mp_pack_kv_str(&pk, "role", "guest");
	mp_pack_str(&pk, "attrs");
	msgpack_pack_map(&pk, 4);
	mp_pack_kv_int(&pk, "n", -70000);
	mp_pack_str(&pk, "f");
	msgpack_pack_double(&pk, 4.5);
	mp_pack_str(&pk, "l");
	msgpack_pack_array(&pk, 3);
	msgpack_pack_nil(&pk);
	msgpack_pack_true(&pk);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, 0);
	mp_pack_kv_uint(&pk, "u", UINT64_MAX);
	msgpack_pack_map(&pk, 1);
	mp_pack_kv_str(&pk, "start", "2015-02?");

	msgpack_packer_init(&pk, &out[1], msgpack_sbuffer_write);
	msg_pack_response_error(&pk, 9, AERR_INVALID,
	    "records[3]: start: 2015-02-30 is not a date");

	msgpack_packer_init(&pk, &out[2], msgpack_sbuffer_write);
	msg_pack_request(&pk, 1, "range");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, 2);
	mp_pack_kv_str(&pk, "from", "2015");
	mp_pack_str(&pk, "cursor");
	msgpack_pack_bin(&pk, 25);
	msgpack_pack_bin_body(&pk, "0123456789012345678901234", 25);

	msgpack_packer_init(&pk, &out[3], msgpack_sbuffer_write);
	pack_every_type(&pk, 300);
}

TEST(frame_check_survives_mutations)
{
	static const unsigned char special[] = { 0xc1, 0xdc, 0xdd, 0xde,
	    0xdf, 0xdb, 0xc6, 0xc9, 0xff, 0x00, 0x91, 0x81, 0x9f, 0x8f };
	msgpack_sbuffer	 samples[4];
	unsigned char	*buf;
	size_t		 len, cap, pos, i;
	uint32_t	 state, iter, nmut, m;
	unsigned	 accepted = 0, rejected = 0;
	struct aerr	 err;

	state = t_seed() | 1;
	pack_samples(samples, 4);
	cap = 0;
	for (i = 0; i < 4; i++) {
		if (samples[i].size > cap)
			cap = samples[i].size;
	}
	cap += 64;
	if ((buf = malloc(cap)) == NULL)
		T_FAIL("malloc");
	for (iter = 0; iter < 20000; iter++) {
		i = rnd(&state) % 4;
		len = samples[i].size;
		memcpy(buf, samples[i].data, len);
		nmut = 1 + rnd(&state) % 4;
		for (m = 0; m < nmut; m++) {
			pos = rnd(&state) % len;
			switch (rnd(&state) % 6) {
			case 0:
				buf[pos] = rnd(&state) & 0xff;
				break;
			case 1:
				buf[pos] ^= 1u << (rnd(&state) % 8);
				break;
			case 2:
				buf[pos] = special[rnd(&state) %
				    sizeof special];
				break;
			case 3:		/* truncate */
				if (pos > 0)
					len = pos;
				break;
			case 4:		/* insert a byte */
				if (len < cap) {
					memmove(buf + pos + 1, buf + pos,
					    len - pos);
					buf[pos] = rnd(&state) & 0xff;
					len++;
				}
				break;
			case 5:		/* delete a byte */
				if (len > 1) {
					memmove(buf + pos, buf + pos + 1,
					    len - pos - 1);
					len--;
				}
				break;
			}
		}
		aerr_clear(&err);
		if (frame_check(buf, len, &err) == 0) {
			check_unpacks(buf, len);
			accepted++;
		} else {
			T_EQ_INT(err.code, AERR_MALFORMED);
			T_ASSERT(err.msg[0] != '\0');
			rejected++;
		}
	}
	printf("seed %u: %u accepted, %u rejected\n", t_seed(), accepted,
	    rejected);
	/* Both ways were exercised, or the loop proved nothing. */
	T_ASSERT(accepted > 100);
	T_ASSERT(rejected > 100);
	free(buf);
	for (i = 0; i < 4; i++)
		msgpack_sbuffer_destroy(&samples[i]);
}

TEST(frame_stream_fed_a_byte_at_a_time)
{
	static const char	*methods[] = { "ping", "stats", "hello" };
	msgpack_sbuffer		 stream, body;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	struct msg		 msg;
	struct aerr		 err;
	unsigned char		 hdr[PROTO_FRAME_HEADER], *in;
	size_t			 i, have, off, nframes;
	uint32_t		 len;
	int			 rc;

	/* Three requests, back to back as a pipelining client sends them. */
	msgpack_sbuffer_init(&stream);
	for (i = 0; i < 3; i++) {
		msgpack_sbuffer_init(&body);
		msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
		msg_pack_request(&pk, 100 + i, methods[i]);
		msgpack_pack_array(&pk, 0);
		frame_header(hdr, body.size);
		msgpack_sbuffer_write(&stream, (const char *)hdr, sizeof hdr);
		msgpack_sbuffer_write(&stream, body.data, body.size);
		msgpack_sbuffer_destroy(&body);
	}

	if ((in = malloc(stream.size)) == NULL)
		T_FAIL("malloc");
	have = 0;
	nframes = 0;
	for (i = 0; i < stream.size; i++) {
		in[have++] = (unsigned char)stream.data[i];
		rc = frame_peek(in, have, PROTO_MAX_FRAME, &len, &err);
		T_ASSERTF(rc >= 0, "%s", err.msg);
		if (rc == 0) {
			T_ASSERT(have < PROTO_FRAME_HEADER);
			continue;
		}
		if (have < PROTO_FRAME_HEADER + len)
			continue;
		T_EQ_U64(have, PROTO_FRAME_HEADER + len);
		T_OK(frame_check(in + PROTO_FRAME_HEADER, len, &err));
		msgpack_unpacked_init(&u);
		off = 0;
		T_EQ_INT(msgpack_unpack_next(&u,
		    (const char *)in + PROTO_FRAME_HEADER, len, &off),
		    MSGPACK_UNPACK_SUCCESS);
		T_OK(msg_parse(&u.data, &msg, &err));
		T_EQ_INT(msg.type, MSG_REQUEST);
		T_EQ_U64(msg.msgid, 100 + nframes);
		T_EQ_U64(msg.method_len, strlen(methods[nframes]));
		T_ASSERT(memcmp(msg.method, methods[nframes],
		    msg.method_len) == 0);
		T_ASSERT(msg.params == NULL);
		msgpack_unpacked_destroy(&u);
		nframes++;
		have = 0;
	}
	T_EQ_INT(nframes, 3);
	T_EQ_U64(have, 0);
	free(in);
	msgpack_sbuffer_destroy(&stream);
}
