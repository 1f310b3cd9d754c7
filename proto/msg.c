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
