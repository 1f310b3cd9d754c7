/* msgpack-RPC messages: parsing every shape, packing, error round trips. */
#include "test.h"
#include "../proto/proto.h"

/* A body and its unpacked object, kept together for a test. */
struct body {
	unsigned char		buf[512];
	size_t			len;
	msgpack_unpacked	u;
};

static void
body_unpack(struct body *b)
{
	struct aerr	err;
	size_t		off = 0;

	T_ASSERTF(frame_check(b->buf, b->len, &err) == 0, "%s", err.msg);
	msgpack_unpacked_init(&b->u);
	T_EQ_INT(msgpack_unpack_next(&b->u, (const char *)b->buf, b->len,
	    &off), MSGPACK_UNPACK_SUCCESS);
	T_EQ_U64(off, b->len);
}

/* Fill b from hex such as "94 00 01", then unpack it. */
static void
body_hex(struct body *b, const char *hex)
{
	unsigned	v;

	b->len = 0;
	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		if (sscanf(hex, "%2x", &v) != 1 || b->len == sizeof b->buf)
			T_FAIL("bad hex in test: %s", hex);
		b->buf[b->len++] = (unsigned char)v;
		hex += 2;
	}
	body_unpack(b);
}

/* Take what a packer wrote into b, then unpack it. */
static void
body_sbuf(struct body *b, msgpack_sbuffer *sbuf)
{
	T_ASSERT(sbuf->size <= sizeof b->buf);
	memcpy(b->buf, sbuf->data, sbuf->size);
	b->len = sbuf->size;
	msgpack_sbuffer_clear(sbuf);
	body_unpack(b);
}

static void
hex_equal(const msgpack_sbuffer *sbuf, const char *hex)
{
	char	got[256];
	size_t	i, n = 0;

	for (i = 0; i < sbuf->size && n + 4 < sizeof got; i++)
		n += snprintf(got + n, sizeof got - n, "%s%02x", i ? " " : "",
		    (unsigned char)sbuf->data[i]);
	got[n] = '\0';
	T_EQ_STR(got, hex);
}

TEST(msg_pack_request_matches_the_protocol_example)
{
	msgpack_sbuffer	sbuf;
	msgpack_packer	pk;

	msgpack_sbuffer_init(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	msg_pack_request(&pk, 1, "ping");
	msgpack_pack_array(&pk, 0);
	hex_equal(&sbuf, "94 00 01 a4 70 69 6e 67 90");

	msgpack_sbuffer_clear(&sbuf);
	msg_pack_response_ok(&pk, 1);
	mp_pack_str(&pk, "pong");
	hex_equal(&sbuf, "94 01 01 c0 a4 70 6f 6e 67");
	msgpack_sbuffer_destroy(&sbuf);
}

TEST(msg_parse_requests)
{
	msgpack_sbuffer	 sbuf;
	msgpack_packer	 pk;
	struct body	 b;
	struct msg	 msg;
	struct aerr	 err;
	uint64_t	 u;

	msgpack_sbuffer_init(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	msg_pack_request(&pk, UINT32_MAX, "get_by_key");
	msgpack_pack_array(&pk, 1);
	msgpack_pack_map(&pk, 2);
	mp_pack_kv_str(&pk, "source", "gdelt");
	mp_pack_kv_uint(&pk, "n", 12);
	body_sbuf(&b, &sbuf);

	T_OK(msg_parse(&b.u.data, &msg, &err));
	T_EQ_INT(msg.type, MSG_REQUEST);
	T_EQ_U64(msg.msgid, UINT32_MAX);
	T_EQ_U64(msg.method_len, 10);
	T_ASSERT(memcmp(msg.method, "get_by_key", 10) == 0);
	T_ASSERT(msg.params != NULL);
	T_EQ_INT(msg.params->type, MSGPACK_OBJECT_MAP);
	T_OK(mp_uint(mp_get(msg.params, "n"), "n", &u, &err));
	T_EQ_U64(u, 12);
	T_ASSERT(msg.error == NULL && msg.result == NULL);
	msgpack_unpacked_destroy(&b.u);

	/* No parameters: an empty array, and params NULL. */
	body_hex(&b, "94 00 cd 01 00 a4 70 69 6e 67 90");
	T_OK(msg_parse(&b.u.data, &msg, &err));
	T_EQ_U64(msg.msgid, 256);
	T_ASSERT(msg.params == NULL);
	msgpack_unpacked_destroy(&b.u);

	/* An empty map is still a map. */
	body_hex(&b, "94 00 00 a4 70 69 6e 67 91 80");
	T_OK(msg_parse(&b.u.data, &msg, &err));
	T_EQ_U64(msg.msgid, 0);
	T_ASSERT(msg.params != NULL);
	T_EQ_INT(msg.params->via.map.size, 0);
	msgpack_unpacked_destroy(&b.u);
	msgpack_sbuffer_destroy(&sbuf);
}

TEST(msg_parse_responses_and_notifications)
{
	struct body	b;
	struct msg	msg;
	struct aerr	err;

	/* [1, 5, nil, "pong"] */
	body_hex(&b, "94 01 05 c0 a4 70 6f 6e 67");
	T_OK(msg_parse(&b.u.data, &msg, &err));
	T_EQ_INT(msg.type, MSG_RESPONSE);
	T_EQ_U64(msg.msgid, 5);
	T_ASSERT(msg.method == NULL);
	T_EQ_INT(msg.error->type, MSGPACK_OBJECT_NIL);
	T_EQ_INT(msg.result->type, MSGPACK_OBJECT_STR);
	T_EQ_INT(msg.result->via.str.size, 4);
	T_EQ_INT(msg_error(msg.error, &err), 0);
	msgpack_unpacked_destroy(&b.u);

	/* [2, "changed", [{}]] */
	body_hex(&b, "93 02 a7 63 68 61 6e 67 65 64 91 80");
	T_OK(msg_parse(&b.u.data, &msg, &err));
	T_EQ_INT(msg.type, MSG_NOTIFY);
	T_EQ_U64(msg.msgid, 0);
	T_EQ_U64(msg.method_len, 7);
	T_ASSERT(memcmp(msg.method, "changed", 7) == 0);
	T_ASSERT(msg.params != NULL);
	msgpack_unpacked_destroy(&b.u);
}

TEST(msg_parse_rejects_bad_shapes)
{
	static const struct {
		const char	*hex;
		const char	*msg;
	} bad[] = {
		{ "80", "message must be an array of 4" },
		{ "c0", "message must be an array of 4" },
		{ "90", "message must be an array of 4" },
		{ "93 00 01 a1 78", "message must be an array of 4" },
		{ "95 00 01 a1 78 90 90", "message must be an array of 4" },
		{ "94 03 01 a1 78 90", "message type must be 0, 1 or 2" },
		{ "94 ff 01 a1 78 90", "message type must be 0, 1 or 2" },
		{ "94 a1 30 01 a1 78 90", "message type must be 0, 1 or 2" },
		{ "94 00 ff a1 78 90",
		    "msgid must be an unsigned integer below 2^32" },
		{ "94 00 cf 00 00 00 01 00 00 00 00 a1 78 90",
		    "msgid must be an unsigned integer below 2^32" },
		{ "94 00 ca 3f 80 00 00 a1 78 90",
		    "msgid must be an unsigned integer below 2^32" },
		{ "94 00 c0 a1 78 90",
		    "msgid must be an unsigned integer below 2^32" },
		{ "94 00 01 05 90", "method must be a string" },
		{ "94 00 01 c4 01 78 90", "method must be a string" },
		{ "94 00 01 c0 90", "method must be a string" },
		{ "94 00 01 a1 78 80",
		    "params must be an array of at most one map" },
		{ "94 00 01 a1 78 c0",
		    "params must be an array of at most one map" },
		{ "94 00 01 a1 78 91 01",
		    "params must be an array of at most one map" },
		{ "94 00 01 a1 78 91 90",
		    "params must be an array of at most one map" },
		{ "94 00 01 a1 78 92 80 80",
		    "params must be an array of at most one map" },
		{ "94 01 01 a3 65 72 72 c0", "error must be nil or a map" },
		{ "94 01 ff c0 c0",
		    "msgid must be an unsigned integer below 2^32" },
		{ "94 02 a1 78 90 c0", "notification must be an array of 3" },
		{ "92 02 a1 78", "notification must be an array of 3" },
		{ "93 02 01 90", "method must be a string" },
		{ "93 02 a1 78 91 c3",
		    "params must be an array of at most one map" },
	};
	struct body	b;
	struct msg	msg;
	struct aerr	err;
	size_t		i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		body_hex(&b, bad[i].hex);
		aerr_clear(&err);
		T_ASSERTF(msg_parse(&b.u.data, &msg, &err) == -1, "%s",
		    bad[i].hex);
		T_EQ_INT(err.code, AERR_MALFORMED);
		T_EQ_STR(err.msg, bad[i].msg);
		msgpack_unpacked_destroy(&b.u);
	}
}

TEST(msg_error_round_trips_every_code)
{
	static const int codes[] = { AERR_INVALID, AERR_NOT_FOUND,
	    AERR_MALFORMED, AERR_UNKNOWN_METHOD, AERR_LIMIT, AERR_BAD_CURSOR,
	    AERR_DISK_FULL, AERR_UNAVAILABLE, AERR_UNAUTHORIZED,
	    AERR_INTERNAL };
	msgpack_sbuffer	 sbuf;
	msgpack_packer	 pk;
	struct body	 b;
	struct msg	 msg;
	struct aerr	 err;
	char		 text[64];
	size_t		 i;

	msgpack_sbuffer_init(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		snprintf(text, sizeof text, "records[%zu]: reason %d", i,
		    codes[i]);
		msg_pack_response_error(&pk, 1000 + i, codes[i], text);
		body_sbuf(&b, &sbuf);
		T_OK(msg_parse(&b.u.data, &msg, &err));
		T_EQ_INT(msg.type, MSG_RESPONSE);
		T_EQ_U64(msg.msgid, 1000 + i);
		T_EQ_INT(msg.error->type, MSGPACK_OBJECT_MAP);
		T_EQ_INT(msg.result->type, MSGPACK_OBJECT_NIL);
		T_ASSERT(mp_key_is(mp_get(msg.error, "code"),
		    aerr_name(codes[i])));
		aerr_clear(&err);
		T_EQ_INT(msg_error(msg.error, &err), -1);
		T_EQ_INT(err.code, codes[i]);
		T_EQ_STR(err.msg, text);
		msgpack_unpacked_destroy(&b.u);
	}

	/* Without a message of its own, the code's default text is sent. */
	msg_pack_response_error(&pk, 3, AERR_UNAVAILABLE, NULL);
	body_sbuf(&b, &sbuf);
	T_OK(msg_parse(&b.u.data, &msg, &err));
	T_EQ_INT(msg_error(msg.error, &err), -1);
	T_EQ_INT(err.code, AERR_UNAVAILABLE);
	T_EQ_STR(err.msg, "server is shutting down");
	msgpack_unpacked_destroy(&b.u);
	msgpack_sbuffer_destroy(&sbuf);
}

TEST(msg_error_handles_odd_error_maps)
{
	struct body	b;
	struct msg	msg;
	struct aerr	err;
	char		longmsg[300];
	msgpack_sbuffer	sbuf;
	msgpack_packer	pk;

	/* A code from a newer server is internal; the message is kept. */
	body_hex(&b, "94 01 01 82 a4 63 6f 64 65 a3 6e 65 77"
	    " a7 6d 65 73 73 61 67 65 a2 68 69 c0");
	T_OK(msg_parse(&b.u.data, &msg, &err));
	T_EQ_INT(msg_error(msg.error, &err), -1);
	T_EQ_INT(err.code, AERR_INTERNAL);
	T_EQ_STR(err.msg, "hi");
	msgpack_unpacked_destroy(&b.u);

	/* {"code": "limit"} without a message: the default text. */
	body_hex(&b, "94 01 01 81 a4 63 6f 64 65 a5 6c 69 6d 69 74 c0");
	T_OK(msg_parse(&b.u.data, &msg, &err));
	T_EQ_INT(msg_error(msg.error, &err), -1);
	T_EQ_INT(err.code, AERR_LIMIT);
	T_EQ_STR(err.msg, "limit exceeded");
	msgpack_unpacked_destroy(&b.u);

	/* {} and {"code": 5} are not errors this protocol sends. */
	body_hex(&b, "94 01 01 80 c0");
	T_OK(msg_parse(&b.u.data, &msg, &err));
	T_EQ_INT(msg_error(msg.error, &err), -1);
	T_EQ_INT(err.code, AERR_PROTOCOL);
	msgpack_unpacked_destroy(&b.u);
	body_hex(&b, "94 01 01 81 a4 63 6f 64 65 05 c0");
	T_OK(msg_parse(&b.u.data, &msg, &err));
	T_EQ_INT(msg_error(msg.error, &err), -1);
	T_EQ_INT(err.code, AERR_PROTOCOL);
	T_EQ_STR(err.msg, "error must be a map with a string code");
	msgpack_unpacked_destroy(&b.u);

	/* A message longer than struct aerr holds is cut, not overrun. */
	memset(longmsg, 'm', sizeof longmsg - 1);
	longmsg[sizeof longmsg - 1] = '\0';
	msgpack_sbuffer_init(&sbuf);
	msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
	msg_pack_response_error(&pk, 4, AERR_INVALID, longmsg);
	body_sbuf(&b, &sbuf);
	T_OK(msg_parse(&b.u.data, &msg, &err));
	T_EQ_INT(msg_error(msg.error, &err), -1);
	T_EQ_INT(err.code, AERR_INVALID);
	T_EQ_INT(strlen(err.msg), sizeof err.msg - 1);
	T_ASSERT(strncmp(err.msg, longmsg, sizeof err.msg - 1) == 0);
	msgpack_unpacked_destroy(&b.u);
	msgpack_sbuffer_destroy(&sbuf);

	/* NULL (no response at hand) is no error. */
	T_EQ_INT(msg_error(NULL, &err), 0);
}
