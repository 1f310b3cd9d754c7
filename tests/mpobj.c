/*
 * Test support: build msgpack objects from JSON written with ' for ",
 * and unpack them through the frame check as the daemon would.
 */
#include <jansson.h>

#include "mpobj.h"
#include "test.h"
#include "../proto/proto.h"

msgpack_packer *
mpobj_begin(struct mpobj *o)
{
	msgpack_sbuffer_init(&o->sbuf);
	msgpack_packer_init(&o->pk, &o->sbuf, msgpack_sbuffer_write);
	msgpack_unpacked_init(&o->u);
	return (&o->pk);
}

/* Unpack what was packed, through the frame check as the daemon does. */
const msgpack_object *
mpobj_end(struct mpobj *o)
{
	struct aerr	err;
	size_t		off = 0;

	T_ASSERTF(frame_check((unsigned char *)o->sbuf.data, o->sbuf.size,
	    &err) == 0, "%s", err.msg);
	/* A spare byte past the frame, as libannals keeps for its replies. */
	msgpack_sbuffer_write(&o->sbuf, "", 1);
	o->sbuf.size--;
	T_EQ_INT(msgpack_unpack_next(&o->u, o->sbuf.data, o->sbuf.size, &off),
	    MSGPACK_UNPACK_SUCCESS);
	return (&o->u.data);
}

void
mpobj_free(struct mpobj *o)
{
	msgpack_unpacked_destroy(&o->u);
	msgpack_sbuffer_destroy(&o->sbuf);
}

static void
mpobj_pack_json(msgpack_packer *pk, json_t *j)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		msgpack_pack_map(pk, json_object_size(j));
		json_object_foreach(j, key, v) {
			mp_pack_str(pk, key);
			mpobj_pack_json(pk, v);
		}
		break;
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(j));
		json_array_foreach(j, i, v)
			mpobj_pack_json(pk, v);
		break;
	case JSON_STRING:
		msgpack_pack_str(pk, json_string_length(j));
		msgpack_pack_str_body(pk, json_string_value(j),
		    json_string_length(j));
		break;
	case JSON_INTEGER:
		msgpack_pack_int64(pk, json_integer_value(j));
		break;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(j));
		break;
	case JSON_TRUE:
		msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		msgpack_pack_false(pk);
		break;
	case JSON_NULL:
		msgpack_pack_nil(pk);
		break;
	}
}

/* Pack JSON written with ' for " (keeps the tables readable). */
const msgpack_object *
mpobj_json(struct mpobj *o, const char *text)
{
	json_error_t	 jerr;
	json_t		*j;
	char		*s, *p;

	if ((s = strdup(text)) == NULL)
		T_FAIL("strdup");
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'')
			*p = '"';
	}
	if ((j = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr)) ==
	    NULL)
		T_FAIL("bad JSON in test: %s: %s", jerr.text, s);
	mpobj_pack_json(mpobj_begin(o), j);
	json_decref(j);
	free(s);
	return (mpobj_end(o));
}

