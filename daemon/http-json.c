/*
 * JSON for the HTTP API.  Records and results are stored and built as
 * msgpack; they are written out as JSON text directly from the msgpack
 * objects, keys in their stored order, without an intermediate tree.
 * Request bodies are parsed with jansson and packed as msgpack, so that
 * the socket's own checks (frame_check, record_decode) judge them.
 * Strings, reals and the packing follow proto/json.c, as annals(1) does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "annalsd.h"
#include "http.h"
#include "../proto/json.h"

/* Nesting of JSON values: jansson refuses deeper input anyway. */
#define HJSON_MAX_DEPTH	64

static void
hjson_write(void *arg, const void *data, size_t len)
{
	evbuffer_add(arg, data, len);
}

/* Write s as a JSON string; bytes that are not UTF-8 become U+FFFD. */
void
hjson_str(struct evbuffer *b, const char *s, size_t len)
{
	const struct json_out	out = { hjson_write, b };

	json_out_str(&out, s, len);
}

static int
hjson_value(struct evbuffer *b, const msgpack_object *o, int depth)
{
	uint32_t	i;

	if (depth > HJSON_MAX_DEPTH)
		return (-1);
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		evbuffer_add(b, "null", 4);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		if (o->via.boolean)
			evbuffer_add(b, "true", 4);
		else
			evbuffer_add(b, "false", 5);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		evbuffer_add_printf(b, "%llu",
		    (unsigned long long)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		evbuffer_add_printf(b, "%lld", (long long)o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: {
		const struct json_out	out = { hjson_write, b };

		json_out_real(&out, o->via.f64);
		break;
	}
	case MSGPACK_OBJECT_STR:
		hjson_str(b, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_ARRAY:
		evbuffer_add(b, "[", 1);
		for (i = 0; i < o->via.array.size; i++) {
			if (i > 0)
				evbuffer_add(b, ",", 1);
			if (hjson_value(b, &o->via.array.ptr[i],
			    depth + 1) != 0)
				return (-1);
		}
		evbuffer_add(b, "]", 1);
		break;
	case MSGPACK_OBJECT_MAP:
		evbuffer_add(b, "{", 1);
		for (i = 0; i < o->via.map.size; i++) {
			/* Records and results only ever have str keys. */
			if (o->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR)
				return (-1);
			if (i > 0)
				evbuffer_add(b, ",", 1);
			hjson_str(b, o->via.map.ptr[i].key.via.str.ptr,
			    o->via.map.ptr[i].key.via.str.size);
			evbuffer_add(b, ":", 1);
			if (hjson_value(b, &o->via.map.ptr[i].val,
			    depth + 1) != 0)
				return (-1);
		}
		evbuffer_add(b, "}", 1);
		break;
	default:
		/* bin and ext have no JSON form; records refuse them. */
		evbuffer_add(b, "null", 4);
		break;
	}
	return (0);
}

int
hjson_from_mp(struct evbuffer *b, const msgpack_object *o)
{
	return (hjson_value(b, o, 0));
}

/* Write a packed result (one msgpack object) as JSON. */
int
hjson_result(struct evbuffer *b, const msgpack_sbuffer *sb)
{
	msgpack_unpacked	up;
	int			rc = -1;

	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, sb->data, sb->size, NULL) ==
	    MSGPACK_UNPACK_SUCCESS)
		rc = hjson_value(b, &up.data, 0);
	msgpack_unpacked_destroy(&up);
	return (rc);
}

/*
 * Write a stored record as a JSON object with the keys of fields (a
 * RECORD_FIELD() set); match, when not NULL, is added as "match" last,
 * the way annals --format jsonl prints range results, and extra, when
 * not NULL, is more "key":value text to add.
 */
int
hjson_record(struct evbuffer *b, const void *data, size_t len,
    uint32_t fields, const char *match, const char *extra)
{
	msgpack_unpacked	 up;
	const msgpack_object	*o = &up.data, *k;
	uint32_t		 i;
	int			 rc = -1, idx = -1, n = 0;

	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, data, len, NULL) !=
	    MSGPACK_UNPACK_SUCCESS || o->type != MSGPACK_OBJECT_MAP)
		goto out;
	evbuffer_add(b, "{", 1);
	for (i = 0; i < o->via.map.size; i++) {
		k = &o->via.map.ptr[i].key;
		if (k->type != MSGPACK_OBJECT_STR)
			goto out;
		idx = record_field_index(k->via.str.ptr, k->via.str.size,
		    idx + 1);
		if (fields != RECORD_FIELDS_ALL &&
		    (idx == -1 || !(fields & RECORD_FIELD(idx))))
			continue;
		if (n++ > 0)
			evbuffer_add(b, ",", 1);
		hjson_str(b, k->via.str.ptr, k->via.str.size);
		evbuffer_add(b, ":", 1);
		if (hjson_value(b, &o->via.map.ptr[i].val, 1) != 0)
			goto out;
	}
	if (match != NULL)
		evbuffer_add_printf(b, "%s\"match\":\"%s\"", n > 0 ? "," : "",
		    match);
	if (extra != NULL && *extra != '\0')
		evbuffer_add_printf(b, ",%s", extra);
	evbuffer_add(b, "}", 1);
	rc = 0;
out:
	msgpack_unpacked_destroy(&up);
	return (rc);
}

/* The offset of the first byte at or after off that is not blank. */
static size_t
hjson_skip(const char *text, size_t len, size_t off)
{
	while (off < len && (text[off] == ' ' || text[off] == '\t' ||
	    text[off] == '\n' || text[off] == '\r'))
		off++;
	return (off);
}

/* The offset of the '"' that closes the string opening at text[i]. */
static size_t
hjson_string_end(const char *text, size_t len, size_t i)
{
	for (i++; i < len && text[i] != '"'; i++) {
		if (text[i] == '\\')
			i++;
	}
	return (i);
}

/*
 * Count the elements of the array whose '[' is just before text, by its
 * commas outside strings and nested values: nothing is built, so a body
 * of millions of tiny elements is refused before it costs memory.  Only
 * valid JSON is counted right; the parse that follows finds the rest.
 */
static size_t
hjson_count(const char *text, size_t len)
{
	size_t	i, depth = 0, commas = 0;
	int	any = 0;

	for (i = 0; i < len; i++) {
		switch (text[i]) {
		case '"':
			any = 1;
			i = hjson_string_end(text, len, i);
			break;
		case '[':
		case '{':
			any = 1;
			depth++;
			break;
		case ']':
		case '}':
			if (depth == 0)
				return (any ? commas + 1 : 0);
			depth--;
			break;
		case ',':
			any = 1;
			if (depth == 0)
				commas++;
			break;
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			break;
		default:
			any = 1;
			break;
		}
	}
	return (any ? commas + 1 : 0);
}

/*
 * Find the end of the value at the start of text, and whether it is more
 * than a record can be, told from its text alone before jansson builds
 * it: jansson takes some hundreds of bytes for each value, 1.3 GB for
 * 16 MiB of empty maps.  A value's '{', '[', ',' and ':' number at most
 * twice the bytes of its packed form, and a record packs its attrs in
 * EVENT_MAX_ATTRS bytes at most and the rest in a few thousand values;
 * so a value with more of them than HJSON_MAX_MARKS is refused, as put
 * would refuse it anyway.  Only valid JSON is measured right; jansson
 * finds the rest.
 */
#define HJSON_MAX_MARKS	(2 * EVENT_MAX_ATTRS + 8192)

static int
hjson_scan(const char *text, size_t len, size_t *end)
{
	size_t	i, depth = 0, marks = 0;

	for (i = 0; i < len; i++) {
		switch (text[i]) {
		case '"':
			i = hjson_string_end(text, len, i);
			break;
		case '[':
		case '{':
			depth++;
			marks++;
			break;
		case ']':
		case '}':
			if (depth == 0) {
				*end = i;
				return (0);
			}
			if (--depth == 0) {
				*end = i + 1;
				return (0);
			}
			break;
		case ',':
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			if (depth == 0) {
				*end = i;
				return (0);
			}
			if (text[i] == ',')
				marks++;
			break;
		case ':':
			marks++;
			break;
		}
		if (marks > HJSON_MAX_MARKS)
			return (1);
	}
	*end = len;
	return (0);
}

/* Line and column (in characters, as jansson counts) of text[off]. */
static void
hjson_where(const char *text, size_t off, int *line, int *column)
{
	size_t	i;

	*line = 1;
	*column = 0;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*column = 0;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80)
			(*column)++;
	}
}

/* A problem jansson found in the element that starts at text[off]. */
static void
hjson_element_error(const char *text, size_t off, const json_error_t *jerr,
    struct aerr *err)
{
	int	line, column;

	hjson_where(text, off, &line, &column);
	if (jerr->line <= 1)
		column += jerr->column;
	else
		column = jerr->column;
	line += jerr->line > 1 ? jerr->line - 1 : 0;
	aerr_set(err, AERR_INVALID, "body: not JSON: %s at line %d column %d",
	    jerr->text, line, column);
}

/* A problem between the elements of the array, at text[off]. */
static void
hjson_array_error(const char *text, size_t len, size_t off, const char *what,
    struct aerr *err)
{
	int	line, column;

	hjson_where(text, off, &line, &column);
	if (off < len)
		aerr_set(err, AERR_INVALID, "body: not JSON: %s near '%c' at "
		    "line %d column %d", what, text[off], line, column + 1);
	else
		aerr_set(err, AERR_INVALID, "body: not JSON: %s near end of "
		    "file at line %d column %d", what, line, column);
}

/*
 * Parse a JSON text and pack it as msgpack; *is_array says whether it
 * was an array (of records) rather than one object.  An array is counted
 * first and refused, as the socket's put refuses it, when it holds more
 * records than a put takes; then its elements are parsed and packed one
 * at a time, so that jansson holds one record's tree, not the body's.
 * rev, when not NULL, replaces the rev of the one record (If-Match).
 */
int
hjson_to_mp(const char *text, size_t len, msgpack_packer *pk, int *is_array,
    const uint64_t *rev, struct aerr *err)
{
	json_error_t	 jerr;
	json_t		*v;
	size_t		 off, n, i, end;
	int		 rc;

	off = hjson_skip(text, len, 0);
	if (off < len && text[off] == '[') {
		*is_array = 1;
		if (rev != NULL) {
			aerr_set(err, AERR_INVALID, "If-Match: takes one "
			    "record, not an array");
			return (-1);
		}
		n = hjson_count(text + off + 1, len - off - 1);
		if (n > PROTO_MAX_BATCH) {
			aerr_set(err, AERR_INVALID, "records: %zu given, at "
			    "most %d allowed", n, PROTO_MAX_BATCH);
			return (-1);
		}
		msgpack_pack_array(pk, n);
		off = hjson_skip(text, len, off + 1);
		if (n == 0 && off < len && text[off] == ']')
			off++;
		for (i = 0; i < n; i++) {
			off = hjson_skip(text, len, off);
			if (hjson_scan(text + off, len - off, &end)) {
				aerr_set(err, AERR_INVALID, "records[%zu]: more "
				    "values than a record holds", i);
				return (-1);
			}
			v = json_load_u64(text + off, end, JSON_DECODE_ANY |
			    JSON_REJECT_DUPLICATES, &jerr);
			if (v == NULL) {
				hjson_element_error(text, off, &jerr, err);
				return (-1);
			}
			rc = json_to_mp(pk, v, PROTO_RECORD_DEPTH, err);
			json_decref(v);
			if (rc != 0) {
				aerr_prefix(err, "records[%zu]: ", i);
				return (-1);
			}
			off = hjson_skip(text, len, off + end);
			if (off < len && text[off] == (i + 1 < n ? ',' : ']'))
				off++;
			else {
				hjson_array_error(text, len, off, i + 1 < n ?
				    "',' expected" : "']' expected", err);
				return (-1);
			}
		}
		off = hjson_skip(text, len, off);
		if (off != len) {
			hjson_array_error(text, len, off, "end of file "
			    "expected", err);
			return (-1);
		}
		return (0);
	}

	if (hjson_scan(text + off, len - off, &end)) {
		aerr_set(err, AERR_INVALID, "record: more values than a record "
		    "holds");
		return (-1);
	}
	v = json_load_u64(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (v == NULL) {
		aerr_set(err, AERR_INVALID, "body: not JSON: %s at line %d "
		    "column %d", jerr.text, jerr.line, jerr.column);
		return (-1);
	}
	if (!json_is_object(v)) {
		json_decref(v);
		aerr_set(err, AERR_INVALID, "body: must be a record or an "
		    "array of records");
		return (-1);
	}
	*is_array = 0;
	if (rev != NULL && json_object_set_new(v, "rev", json_u64(*rev)) != 0)
		fatalx("out of memory");
	rc = json_to_mp(pk, v, PROTO_RECORD_DEPTH, err);
	json_decref(v);
	if (rc != 0)
		aerr_prefix(err, "record: ");
	return (rc);
}

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding (RFC 4648 section 5); returns the length. */
size_t
b64url_encode(const unsigned char *in, size_t len, char *out, size_t size)
{
	size_t		i, o = 0;
	uint32_t	v;

	for (i = 0; i < len && o + 5 <= size; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = b64url[(v >> 6) & 63];
		if (i + 2 < len)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	return (o);
}

int
b64url_decode(const char *in, unsigned char *out, size_t size, size_t *len)
{
	const char	*p;
	uint32_t	 v = 0;
	size_t		 n = 0;
	int		 bits = 0;

	for (; *in != '\0' && *in != '='; in++) {
		if ((p = strchr(b64url, *in)) == NULL || *in == '\0')
			return (-1);
		v = v << 6 | (uint32_t)(p - b64url);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == size)
				return (-1);
			out[n++] = (v >> bits) & 0xff;
		}
	}
	*len = n;
	return (0);
}
