/*
 * msgpack-RPC messages: taking an unpacked frame apart into a struct msg
 * and packing the fixed parts of requests and responses.  Parameters and
 * results are packed by the caller after the fixed part.
 */
#include <inttypes.h>
#include <string.h>

#include "proto.h"

static int
msg_fail(struct aerr *err, const char *text)
{
	aerr_set(err, AERR_MALFORMED, "%s", text);
	return (-1);
}

/*
 * Take a message apart: [0, msgid, method, params], [1, msgid, error,
 * result] or [2, method, params].  The pointers set in msg are views into
 * obj and live as long as it.
 */
int
msg_parse(const msgpack_object *obj, struct msg *msg, struct aerr *err)
{
	const msgpack_object	*v, *params;
	uint32_t		 want, i;

	memset(msg, 0, sizeof *msg);
	if (obj->type != MSGPACK_OBJECT_ARRAY || obj->via.array.size == 0)
		return (msg_fail(err, "message must be an array of 4"));
	v = obj->via.array.ptr;
	if (v[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER || v[0].via.u64 > 2)
		return (msg_fail(err, "message type must be 0, 1 or 2"));
	msg->type = (int)v[0].via.u64;
	want = msg->type == MSG_NOTIFY ? 3 : 4;
	if (obj->via.array.size != want) {
		aerr_set(err, AERR_MALFORMED, "%s must be an array of %" PRIu32,
		    msg->type == MSG_NOTIFY ? "notification" : "message", want);
		return (-1);
	}

	i = 1;
	if (msg->type != MSG_NOTIFY) {
		if (v[i].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    v[i].via.u64 > UINT32_MAX) {
			return (msg_fail(err,
			    "msgid must be an unsigned integer below 2^32"));
		}
		msg->msgid = (uint32_t)v[i].via.u64;
		i++;
	}

	if (msg->type == MSG_RESPONSE) {
		if (v[i].type != MSGPACK_OBJECT_NIL &&
		    v[i].type != MSGPACK_OBJECT_MAP)
			return (msg_fail(err, "error must be nil or a map"));
		msg->error = &v[i];
		msg->result = &v[i + 1];
		return (0);
	}

	if (v[i].type != MSGPACK_OBJECT_STR)
		return (msg_fail(err, "method must be a string"));
	/* Part of the envelope, like the msgid: a bad message, not value. */
	if (!utf8_valid(v[i].via.str.ptr, v[i].via.str.size))
		return (msg_fail(err, "method must be UTF-8"));
	/* msgpack-c leaves ptr NULL for "": callers need a string. */
	msg->method = v[i].via.str.size != 0 ? v[i].via.str.ptr : "";
	msg->method_len = v[i].via.str.size;
	i++;

	params = &v[i];
	if (params->type != MSGPACK_OBJECT_ARRAY ||
	    params->via.array.size > 1 ||
	    (params->via.array.size == 1 &&
	    params->via.array.ptr[0].type != MSGPACK_OBJECT_MAP)) {
		return (msg_fail(err,
		    "params must be an array of at most one map"));
	}
	if (params->via.array.size == 1)
		msg->params = &params->via.array.ptr[0];
	return (0);
}

/* Read a msgpack integer >= 0 at p + *off and step over it; -1: none. */
static int
msg_raw_uint(const unsigned char *p, size_t len, size_t *off, uint64_t *v)
{
	size_t	n, i;
	int	sign = 0;

	if (*off >= len)
		return (-1);
	if (p[*off] <= 0x7f) {
		*v = p[(*off)++];
		return (0);
	}
	switch (p[*off]) {
	case 0xcc: case 0xcd: case 0xce: case 0xcf:
		n = (size_t)1 << (p[*off] - 0xcc);
		break;
	case 0xd0: case 0xd1: case 0xd2: case 0xd3:
		n = (size_t)1 << (p[*off] - 0xd0);
		sign = 1;
		break;
	default:
		return (-1);
	}
	if (len - *off - 1 < n)
		return (-1);
	if (sign && (p[*off + 1] & 0x80))
		return (-1);
	*v = 0;
	for (i = 0; i < n; i++)
		*v = *v << 8 | p[*off + 1 + i];
	*off += 1 + n;
	return (0);
}

/*
 * The msgid of a request or response body, len bytes, that is not a
 * well-formed message: read from its first bytes, [type, msgid, ...],
 * whatever follows them (trailing bytes, nesting too deep, a wrong
 * count).  0 when even those cannot be read.
 */
uint32_t
msg_peek_msgid(const unsigned char *p, size_t len)
{
	uint64_t	n, type, msgid;
	size_t		off;

	if (len >= 1 && p[0] >= 0x90 && p[0] <= 0x9f) {
		n = p[0] & 0x0f;
		off = 1;
	} else if (len >= 3 && p[0] == 0xdc) {
		n = (uint64_t)p[1] << 8 | p[2];
		off = 3;
	} else if (len >= 5 && p[0] == 0xdd) {
		n = (uint64_t)p[1] << 24 | (uint64_t)p[2] << 16 |
		    (uint64_t)p[3] << 8 | p[4];
		off = 5;
	} else
		return (0);
	if (n < 2 || msg_raw_uint(p, len, &off, &type) != 0 ||
	    (type != MSG_REQUEST && type != MSG_RESPONSE) ||
	    msg_raw_uint(p, len, &off, &msgid) != 0 || msgid > UINT32_MAX)
		return (0);
	return ((uint32_t)msgid);
}

/* Pack [0, msgid, method, and leave the params array to the caller. */
void
msg_pack_request(msgpack_packer *pk, uint32_t msgid, const char *method)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, MSG_REQUEST);
	msgpack_pack_uint32(pk, msgid);
	mp_pack_str(pk, method);
}

/* Pack [1, msgid, nil, and leave the result to the caller. */
void
msg_pack_response_ok(msgpack_packer *pk, uint32_t msgid)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, MSG_RESPONSE);
	msgpack_pack_uint32(pk, msgid);
	msgpack_pack_nil(pk);
}

/* Pack a whole error response; message NULL means the code's own text. */
void
msg_pack_response_error(msgpack_packer *pk, uint32_t msgid, int code,
    const char *message)
{
	if (message == NULL)
		message = aerr_text(code);
	msgpack_pack_array(pk, 4);
	msgpack_pack_uint8(pk, MSG_RESPONSE);
	msgpack_pack_uint32(pk, msgid);
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "code", aerr_name(code));
	mp_pack_kv_str(pk, "message", message);
	msgpack_pack_nil(pk);
}

/*
 * Turn the error of a response into err and return -1, or return 0 when
 * it is nil.  A code this client does not know becomes AERR_INTERNAL; an
 * error that is not {"code": str, ...} is AERR_PROTOCOL.
 */
int
msg_error(const msgpack_object *error, struct aerr *err)
{
	const msgpack_object	*code, *message;
	int			 c;
	size_t			 len;

	if (error == NULL || error->type == MSGPACK_OBJECT_NIL)
		return (0);
	code = mp_get(error, "code");
	if (code == NULL || code->type != MSGPACK_OBJECT_STR) {
		aerr_set(err, AERR_PROTOCOL,
		    "error must be a map with a string code");
		return (-1);
	}
	c = aerr_from_name(code->via.str.ptr, code->via.str.size);
	message = mp_get(error, "message");
	if (message == NULL || message->type != MSGPACK_OBJECT_STR) {
		aerr_set(err, c, "%s", aerr_text(c));
		return (-1);
	}
	/* aerr_set truncates; the bound only keeps the int cast honest. */
	len = message->via.str.size;
	if (len > sizeof err->msg)
		len = sizeof err->msg;
	aerr_set(err, c, "%.*s", (int)len, message->via.str.ptr);
	return (-1);
}

/* The CHANGE_* a change's "op" names, or -1 for none this side knows. */
int
change_op_parse(const msgpack_object *o)
{
	if (mp_key_is(o, "put"))
		return (CHANGE_PUT);
	if (mp_key_is(o, "delete"))
		return (CHANGE_DELETE);
	if (mp_key_is(o, "dict_put"))
		return (CHANGE_DICT_PUT);
	if (mp_key_is(o, "dict_delete"))
		return (CHANGE_DICT_DELETE);
	return (-1);
}

/* A CHANGE_* as the wire names it. */
const char *
change_op_name(int op)
{
	static const char *const names[] = { "put", "delete", "dict_put",
	    "dict_delete" };

	return (op >= CHANGE_PUT && op <= CHANGE_DICT_DELETE ?
	    names[op - CHANGE_PUT] : "delete");
}
