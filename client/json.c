/*
 * Events as JSON, for annals(1): the same map with the same keys as the
 * wire record (PROTOCOL.md), so that a line printed by "annals range" is
 * a line "annals add -" accepts.
 *
 * attrs convert both ways without loss: msgpack integers become JSON
 * integers and floats become JSON reals, which json_record_write()
 * prints with a decimal point or exponent (and jansson reads back as
 * reals), using the shortest digits that read back to the same double.
 * Integers above INT64_MAX, which jansson cannot hold, go through
 * json_uint() both ways.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Attribute values nest no deeper than a frame allows (PROTOCOL.md). */
#define JSON_MAX_DEPTH	16

static void	json_fail(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
json_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * jansson's integers are json_int_t, int64, and it refuses a larger one
 * in text ("too big integer"); attrs hold uint64, and an export turned
 * 18446744073709551615 into the float 1.8446744073709552e+19 (issue
 * #15).  Such a value lives in a json_t as a string that only this file
 * makes: a NUL, "u64:" and the digits.  No attribute can be a string
 * with a NUL (json_pack_value() refuses it), so it is never text:
 * json_write_value() prints the digits bare and json_pack_value() packs
 * a uint64 again.
 */
#define JSON_UINT_TAG		"\0u64:"
#define JSON_UINT_TAGLEN	5

static json_t *
json_uint(uint64_t v)
{
	char	buf[JSON_UINT_TAGLEN + 24];
	int	n;

	if (v <= INT64_MAX)
		return (json_integer((json_int_t)v));
	memcpy(buf, JSON_UINT_TAG, JSON_UINT_TAGLEN);
	n = snprintf(buf + JSON_UINT_TAGLEN, sizeof buf - JSON_UINT_TAGLEN,
	    "%" PRIu64, v);
	return (json_stringn(buf, JSON_UINT_TAGLEN + n));
}

/* Whether v is one of json_uint()'s strings; its value in *u. */
static int
json_uint_value(json_t *v, uint64_t *u)
{
	const char	*s;

	if (!json_is_string(v) || json_string_length(v) <= JSON_UINT_TAGLEN)
		return (0);
	s = json_string_value(v);
	if (memcmp(s, JSON_UINT_TAG, JSON_UINT_TAGLEN) != 0)
		return (0);
	*u = strtoull(s + JSON_UINT_TAGLEN, NULL, 10);
	return (1);
}

/*
 * json_loadb() that also reads integers from INT64_MAX + 1 to
 * UINT64_MAX: they are rewritten into json_uint()'s strings first,
 * "\u0000u64:DIGITS", which JSON_ALLOW_NUL lets jansson read.  Text
 * with a \u0000 of its own is left as it is, for jansson to refuse
 * (JSON_ALLOW_NUL in flags is ignored).  Positions in error are those
 * of the rewritten text.
 */
json_t *
json_record_load(const char *buf, size_t len, size_t flags,
    json_error_t *error)
{
	const char		*p, *end = buf + len, *tok, *from = buf;
	char			*copy = NULL, *o = NULL, *e, num[24];
	unsigned long long	 v;
	size_t			 ndig;
	json_t			*j;
	int			 instr = 0, real;

	for (p = buf; p < end; p++) {
		if (instr) {
			if (*p == '"')
				instr = 0;
			else if (*p == '\\') {
				if (end - p >= 6 &&
				    memcmp(p, "\\u0000", 6) == 0)
					goto plain;
				p++;
			}
			continue;
		}
		if (*p == '"')
			instr = 1;
		if (*p < '0' || *p > '9')
			continue;
		/* A number: its digits, then any fraction or exponent. */
		for (tok = p; p < end && *p >= '0' && *p <= '9'; p++)
			continue;
		ndig = p - tok;
		for (real = 0; p < end && (*p == '.' || *p == 'e' ||
		    *p == 'E' || *p == '+' || *p == '-' ||
		    (*p >= '0' && *p <= '9')); p++)
			real = 1;
		if (real || (tok > buf && tok[-1] == '-') || *tok == '0' ||
		    ndig < 19 || ndig > 20) {
			p--;
			continue;
		}
		memcpy(num, tok, ndig);
		num[ndig] = '\0';
		errno = 0;
		v = strtoull(num, &e, 10);
		if (errno != 0 || v <= INT64_MAX) {
			p--;
			continue;
		}
		/* 19 or 20 digits become 12 bytes more: 2 * len will do. */
		if (copy == NULL && (copy = o = malloc(2 * len + 1)) == NULL)
			goto plain;
		memcpy(o, from, tok - from);
		o += tok - from;
		o += sprintf(o, "\"\\u0000u64:%llu\"", v);
		from = p--;
	}
	if (copy == NULL)
		goto plain;
	memcpy(o, from, end - from);
	o += end - from;
	j = json_loadb(copy, o - copy, flags | JSON_ALLOW_NUL, error);
	free(copy);
	return (j);
plain:
	free(copy);
	/* A NUL of the text's own could pass for json_uint()'s tag. */
	return (json_loadb(buf, len, flags & ~JSON_ALLOW_NUL, error));
}

/* Add key: a string of s when s is not NULL. */
static int
json_set_str(json_t *obj, const char *key, const char *s)
{
	if (s == NULL)
		return (0);
	return (json_object_set_new(obj, key, json_string(s)));
}

static int
json_set_uint(json_t *obj, const char *key, uint64_t v)
{
	return (json_object_set_new(obj, key, json_uint(v)));
}

static json_t *
json_from_mp(const msgpack_object *o, char *err, size_t errlen)
{
	json_t		*v, *item;
	uint32_t	 i;
	const msgpack_object_kv *kv;
	char		*key, inner[256];

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return (json_null());
	case MSGPACK_OBJECT_BOOLEAN:
		return (json_boolean(o->via.boolean));
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return (json_uint(o->via.u64));
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return (json_integer(o->via.i64));
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		if ((v = json_real(o->via.f64)) == NULL)
			json_fail(err, errlen, "%g has no JSON form",
			    o->via.f64);
		return (v);
	case MSGPACK_OBJECT_STR:
		if ((v = json_stringn(o->via.str.ptr, o->via.str.size)) ==
		    NULL)
			json_fail(err, errlen, "string is not UTF-8");
		return (v);
	case MSGPACK_OBJECT_ARRAY:
		if ((v = json_array()) == NULL)
			break;
		for (i = 0; i < o->via.array.size; i++) {
			item = json_from_mp(&o->via.array.ptr[i], err, errlen);
			if (item == NULL || json_array_append_new(v, item)) {
				json_decref(v);
				return (NULL);
			}
		}
		return (v);
	case MSGPACK_OBJECT_MAP:
		if ((v = json_object()) == NULL)
			break;
		for (i = 0; i < o->via.map.size; i++) {
			kv = &o->via.map.ptr[i];
			if (kv->key.type != MSGPACK_OBJECT_STR) {
				json_fail(err, errlen, "a key is not a string");
				json_decref(v);
				return (NULL);
			}
			key = strndup(kv->key.via.str.ptr, kv->key.via.str.size);
			item = json_from_mp(&kv->val, err, errlen);
			if (key == NULL || item == NULL ||
			    json_object_set_new(v, key, item) != 0) {
				if (key != NULL && item == NULL) {
					snprintf(inner, sizeof inner, "%s",
					    err);
					json_fail(err, errlen, "%s: %s", key,
					    inner);
				}
				free(key);
				json_decref(v);
				return (NULL);
			}
			free(key);
		}
		return (v);
	default:
		json_fail(err, errlen, "bin and ext values have no JSON form");
		return (NULL);
	}
	json_fail(err, errlen, "out of memory");
	return (NULL);
}

/* The attrs of an event (packed msgpack) as a JSON object. */
static json_t *
json_attrs_decode(const void *attrs, size_t len, char *err, size_t errlen)
{
	msgpack_unpacked	 up;
	size_t			 off = 0;
	json_t			*v = NULL;

	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, attrs, len, &off) !=
	    MSGPACK_UNPACK_SUCCESS || up.data.type != MSGPACK_OBJECT_MAP)
		json_fail(err, errlen, "attrs: not a msgpack map");
	else
		v = json_from_mp(&up.data, err, errlen);
	msgpack_unpacked_destroy(&up);
	return (v);
}

/*
 * The JSON object of an event, keys in the wire order; with_match adds
 * "match" for an event from a range or actor query.  NULL with err set
 * when the event cannot be written as JSON or memory ran out.
 */
json_t *
json_record_encode(const struct annals_event *ev, int with_match, char *err,
    size_t errlen)
{
	json_t	*o, *a, *p, *v;
	size_t	 i;
	int	 bad = 0;

	json_fail(err, errlen, "out of memory");
	if ((o = json_object()) == NULL)
		return (NULL);
	/* A stored event has all four, unless --fields left them out. */
	if (ev->id != 0)
		bad |= json_set_uint(o, "id", ev->id);
	if (ev->id != 0 && ev->rev != 0)
		bad |= json_set_uint(o, "rev", ev->rev);
	if (ev->id != 0 && ev->created != 0)
		bad |= json_set_uint(o, "created", ev->created);
	if (ev->id != 0 && ev->updated != 0)
		bad |= json_set_uint(o, "updated", ev->updated);
	bad |= json_set_str(o, "source", ev->source);
	bad |= json_set_str(o, "key", ev->key);
	bad |= json_set_str(o, "start", ev->start);
	bad |= json_set_str(o, "end", ev->end);
	if (ev->nactors != 0) {
		bad |= json_object_set_new(o, "actors", a = json_array());
		for (i = 0; a != NULL && i < ev->nactors; i++) {
			v = json_object();
			bad |= json_set_str(v, "name", ev->actors[i].name);
			bad |= json_set_str(v, "role", ev->actors[i].role);
			bad |= json_array_append_new(a, v);
		}
	}
	bad |= json_set_str(o, "type", ev->type);
	bad |= json_set_str(o, "title", ev->title);
	bad |= json_set_str(o, "text", ev->text);
	if (ev->place_name != NULL || ev->place_country != NULL ||
	    ev->has_lat || ev->has_lon) {
		bad |= json_object_set_new(o, "place", p = json_object());
		bad |= json_set_str(p, "name", ev->place_name);
		bad |= json_set_str(p, "country", ev->place_country);
		if (ev->has_lat)
			bad |= json_object_set_new(p, "lat", json_real(ev->lat));
		if (ev->has_lon)
			bad |= json_object_set_new(p, "lon", json_real(ev->lon));
	}
	if (ev->nurls != 0) {
		bad |= json_object_set_new(o, "urls", a = json_array());
		for (i = 0; i < ev->nurls; i++)
			bad |= json_array_append_new(a, json_string(ev->urls[i]));
	}
	if (ev->ntags != 0) {
		bad |= json_object_set_new(o, "tags", a = json_array());
		for (i = 0; i < ev->ntags; i++)
			bad |= json_array_append_new(a, json_string(ev->tags[i]));
	}
	if (bad) {
		json_decref(o);
		return (NULL);
	}
	if (ev->attrs_len != 0) {
		if ((v = json_attrs_decode(ev->attrs, ev->attrs_len, err,
		    errlen)) == NULL) {
			json_decref(o);
			return (NULL);
		}
		bad |= json_object_set_new(o, "attrs", v);
	}
	if (with_match && ev->match != 0) {
		bad |= json_object_set_new(o, "match", json_string(
		    ev->match == ANNALS_MATCH_CERTAIN ? "certain" : "possible"));
	}
	if (bad) {
		json_decref(o);
		return (NULL);
	}
	return (o);
}

static int
json_pack_value(msgpack_packer *pk, json_t *v, int depth, char *err,
    size_t errlen)
{
	const char	*key;
	json_t		*item;
	uint64_t	 u;
	size_t		 i, len;

	if (depth > JSON_MAX_DEPTH) {
		json_fail(err, errlen, "nested deeper than %d", JSON_MAX_DEPTH);
		return (-1);
	}
	switch (json_typeof(v)) {
	case JSON_NULL:
		return (msgpack_pack_nil(pk));
	case JSON_TRUE:
		return (msgpack_pack_true(pk));
	case JSON_FALSE:
		return (msgpack_pack_false(pk));
	case JSON_INTEGER:
		return (msgpack_pack_int64(pk, json_integer_value(v)));
	case JSON_REAL:
		return (msgpack_pack_double(pk, json_real_value(v)));
	case JSON_STRING:
		if (json_uint_value(v, &u))
			return (msgpack_pack_uint64(pk, u));
		len = json_string_length(v);
		if (memchr(json_string_value(v), '\0', len) != NULL) {
			json_fail(err, errlen, "string contains a NUL byte");
			return (-1);
		}
		msgpack_pack_str(pk, len);
		return (msgpack_pack_str_body(pk, json_string_value(v), len));
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(v));
		json_array_foreach(v, i, item) {
			if (json_pack_value(pk, item, depth + 1, err, errlen))
				return (-1);
		}
		return (0);
	case JSON_OBJECT:
		msgpack_pack_map(pk, json_object_size(v));
		json_object_foreach(v, key, item) {
			len = strlen(key);
			msgpack_pack_str(pk, len);
			msgpack_pack_str_body(pk, key, len);
			if (json_pack_value(pk, item, depth + 1, err,
			    errlen) != 0) {
				return (-1);
			}
		}
		return (0);
	}
	return (-1);
}

/* Pack a JSON object of attributes into sb, which the caller set up. */
int
json_record_attrs(json_t *attrs, msgpack_sbuffer *sb, char *err,
    size_t errlen)
{
	msgpack_packer	pk;

	if (!json_is_object(attrs)) {
		json_fail(err, errlen, "attrs: must be an object");
		return (-1);
	}
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	err[0] = '\0';
	if (json_pack_value(&pk, attrs, 1, err, errlen) != 0) {
		if (err[0] == '\0')
			json_fail(err, errlen, "out of memory");
		return (-1);
	}
	return (0);
}

static int
json_get_str(json_t *v, const char *field, const char **out, char *err,
    size_t errlen)
{
	if (!json_is_string(v)) {
		json_fail(err, errlen, "%s: must be a string", field);
		return (-1);
	}
	*out = json_string_value(v);
	return (0);
}

/* A list of strings: urls or tags. */
static int
json_get_strs(json_t *v, const char *field, const char ***out, size_t *n,
    char *err, size_t errlen)
{
	json_t	*item;
	size_t	 i;

	if (!json_is_array(v)) {
		json_fail(err, errlen, "%s: must be an array", field);
		return (-1);
	}
	if (json_array_size(v) == 0)
		return (0);
	if ((*out = calloc(json_array_size(v), sizeof **out)) == NULL) {
		json_fail(err, errlen, "out of memory");
		return (-1);
	}
	json_array_foreach(v, i, item) {
		if (!json_is_string(item)) {
			json_fail(err, errlen, "%s[%zu]: must be a string",
			    field, i);
			return (-1);
		}
		(*out)[i] = json_string_value(item);
	}
	*n = json_array_size(v);
	return (0);
}

static int
json_get_actors(json_t *v, struct json_record *r, char *err, size_t errlen)
{
	json_t		*item, *f;
	const char	*key;
	size_t		 i;

	if (!json_is_array(v)) {
		json_fail(err, errlen, "actors: must be an array");
		return (-1);
	}
	if (json_array_size(v) == 0)
		return (0);
	r->actors = calloc(json_array_size(v), sizeof *r->actors);
	if (r->actors == NULL) {
		json_fail(err, errlen, "out of memory");
		return (-1);
	}
	json_array_foreach(v, i, item) {
		if (json_is_string(item)) {
			r->actors[i].name = json_string_value(item);
			continue;
		}
		if (!json_is_object(item)) {
			json_fail(err, errlen, "actors[%zu]: must be a string "
			    "or an object", i);
			return (-1);
		}
		json_object_foreach(item, key, f) {
			if (strcmp(key, "name") == 0 && json_is_string(f))
				r->actors[i].name = json_string_value(f);
			else if (strcmp(key, "role") == 0 && json_is_string(f))
				r->actors[i].role = json_string_value(f);
			else if (strcmp(key, "role") == 0 && json_is_null(f))
				continue;
			else {
				json_fail(err, errlen, "actors[%zu]: %s: not "
				    "a name or role string", i, key);
				return (-1);
			}
		}
		if (r->actors[i].name == NULL) {
			json_fail(err, errlen, "actors[%zu]: name: required",
			    i);
			return (-1);
		}
	}
	r->ev.actors = r->actors;
	r->ev.nactors = json_array_size(v);
	return (0);
}

static int
json_get_place(json_t *v, struct annals_event *ev, char *err, size_t errlen)
{
	const char	*key;
	json_t		*f;

	if (!json_is_object(v)) {
		json_fail(err, errlen, "place: must be an object");
		return (-1);
	}
	json_object_foreach(v, key, f) {
		if (json_is_null(f))
			continue;
		if (strcmp(key, "name") == 0) {
			if (json_get_str(f, "place: name", &ev->place_name,
			    err, errlen) != 0)
				return (-1);
		} else if (strcmp(key, "country") == 0) {
			if (json_get_str(f, "place: country",
			    &ev->place_country, err, errlen) != 0)
				return (-1);
		} else if (strcmp(key, "lat") == 0 && json_is_number(f)) {
			ev->lat = json_number_value(f);
			ev->has_lat = 1;
		} else if (strcmp(key, "lon") == 0 && json_is_number(f)) {
			ev->lon = json_number_value(f);
			ev->has_lon = 1;
		} else {
			json_fail(err, errlen, "place: %s: not a known field "
			    "of the right type", key);
			return (-1);
		}
	}
	return (0);
}

/* The string fields of a record and where they go. */
static const char **
json_str_slot(struct annals_event *ev, const char *key)
{
	if (strcmp(key, "source") == 0)
		return (&ev->source);
	if (strcmp(key, "key") == 0)
		return (&ev->key);
	if (strcmp(key, "start") == 0)
		return (&ev->start);
	if (strcmp(key, "end") == 0)
		return (&ev->end);
	if (strcmp(key, "type") == 0)
		return (&ev->type);
	if (strcmp(key, "title") == 0)
		return (&ev->title);
	if (strcmp(key, "text") == 0)
		return (&ev->text);
	return (NULL);
}

/*
 * Turn a JSON object into r->ev, ready for annals_put().  The event's
 * strings point into obj, of which r keeps a reference; free both with
 * json_record_clear(), also after a failure.  rev, created, updated and
 * match are accepted and ignored, so output can be fed back.  The daemon
 * does the rest of the checking.
 */
int
json_record_decode(json_t *obj, struct json_record *r, char *err,
    size_t errlen)
{
	struct annals_event	*ev = &r->ev;
	const char		*key, **slot;
	json_t			*v;

	memset(r, 0, sizeof *r);
	msgpack_sbuffer_init(&r->attrs);
	if (!json_is_object(obj)) {
		json_fail(err, errlen, "record must be a JSON object");
		return (-1);
	}
	r->json = json_incref(obj);
	json_object_foreach(obj, key, v) {
		if (json_is_null(v))
			continue;
		if ((slot = json_str_slot(ev, key)) != NULL) {
			if (json_get_str(v, key, slot, err, errlen) != 0)
				return (-1);
		} else if (strcmp(key, "id") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1) {
				json_fail(err, errlen, "id: must be a "
				    "positive integer");
				return (-1);
			}
			ev->id = (uint64_t)json_integer_value(v);
		} else if (strcmp(key, "rev") == 0 ||
		    strcmp(key, "created") == 0 ||
		    strcmp(key, "updated") == 0 || strcmp(key, "match") == 0)
			continue;
		else if (strcmp(key, "actors") == 0) {
			if (json_get_actors(v, r, err, errlen) != 0)
				return (-1);
		} else if (strcmp(key, "place") == 0) {
			if (json_get_place(v, ev, err, errlen) != 0)
				return (-1);
		} else if (strcmp(key, "urls") == 0) {
			if (json_get_strs(v, key, &r->urls, &ev->nurls, err,
			    errlen) != 0)
				return (-1);
			ev->urls = r->urls;
		} else if (strcmp(key, "tags") == 0) {
			if (json_get_strs(v, key, &r->tags, &ev->ntags, err,
			    errlen) != 0)
				return (-1);
			ev->tags = r->tags;
		} else if (strcmp(key, "attrs") == 0) {
			if (json_record_attrs(v, &r->attrs, err, errlen) != 0)
				return (-1);
			ev->attrs = r->attrs.data;
			ev->attrs_len = r->attrs.size;
		} else {
			json_fail(err, errlen, "unknown field \"%s\"", key);
			return (-1);
		}
	}
	return (0);
}

void
json_record_clear(struct json_record *r)
{
	free(r->actors);
	free(r->urls);
	free(r->tags);
	msgpack_sbuffer_destroy(&r->attrs);
	json_decref(r->json);
	memset(r, 0, sizeof *r);
}

/* Write s as a JSON string: UTF-8 as it is, controls escaped. */
static void
json_write_str(FILE *fp, const char *s, size_t len)
{
	size_t	i;
	int	c;

	putc('"', fp);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		switch (c) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(fp, "\\u%04x", c);
			else
				putc(c, fp);
		}
	}
	putc('"', fp);
}

/* The shortest decimal form of d that reads back as d, always a real. */
static void
json_write_real(FILE *fp, double d)
{
	char	buf[64], fixed[64], *e;
	double	a = d < 0 ? -d : d;
	int	prec, exp, decimals;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	/*
	 * %g takes an exponent as soon as its digits stop short of the
	 * point (10 is "1e+01"); people read and edit 10.0, so between
	 * 1e-4 and 1e16 write the same digits without one.
	 */
	if (a >= 1e-4 && a < 1e16) {
		snprintf(fixed, sizeof fixed, "%.*e", prec - 1, d);
		if ((e = strchr(fixed, 'e')) != NULL) {
			exp = atoi(e + 1);
			decimals = prec - 1 - exp > 0 ? prec - 1 - exp : 1;
			snprintf(fixed, sizeof fixed, "%.*f", decimals, d);
			if (strtod(fixed, NULL) == d)
				memcpy(buf, fixed, sizeof buf);
		}
	}
	if (strpbrk(buf, ".eEni") == NULL)
		strncat(buf, ".0", sizeof buf - strlen(buf) - 1);
	fputs(buf, fp);
}

/*
 * Write v; expand > 0 puts each member of the outer expand levels of
 * objects and arrays on its own line, indented two spaces a level, and
 * writes the values below them on one line with a space after each ,
 * and :.  expand < 0 writes everything without spaces, for JSON lines.
 */
static void
json_write_value(FILE *fp, json_t *v, int expand, int depth)
{
	const char	*key, *sep;
	json_t		*item;
	uint64_t	 u;
	size_t		 i, n;
	int		 nl;

	sep = expand < 0 ? "," : ", ";
	switch (json_typeof(v)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		n = json_is_object(v) ? json_object_size(v) :
		    json_array_size(v);
		nl = expand > 0 && n != 0;
		putc(json_is_object(v) ? '{' : '[', fp);
		i = 0;
		if (json_is_object(v)) {
			json_object_foreach(v, key, item) {
				if (i++ != 0)
					fputs(nl ? "," : sep, fp);
				if (nl)
					fprintf(fp, "\n%*s", 2 * (depth + 1),
					    "");
				json_write_str(fp, key, strlen(key));
				fputs(expand < 0 ? ":" : ": ", fp);
				json_write_value(fp, item, expand > 0 ?
				    expand - 1 : expand, depth + 1);
			}
		} else {
			json_array_foreach(v, i, item) {
				if (i != 0)
					fputs(nl ? "," : sep, fp);
				if (nl)
					fprintf(fp, "\n%*s", 2 * (depth + 1),
					    "");
				json_write_value(fp, item, expand > 0 ?
				    expand - 1 : expand, depth + 1);
			}
		}
		if (nl)
			fprintf(fp, "\n%*s", 2 * depth, "");
		putc(json_is_object(v) ? '}' : ']', fp);
		break;
	case JSON_STRING:
		if (json_uint_value(v, &u))
			fprintf(fp, "%" PRIu64, u);
		else
			json_write_str(fp, json_string_value(v),
			    json_string_length(v));
		break;
	case JSON_INTEGER:
		fprintf(fp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		json_write_real(fp, json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("true", fp);
		break;
	case JSON_FALSE:
		fputs("false", fp);
		break;
	case JSON_NULL:
		fputs("null", fp);
		break;
	}
}

/* Write v compactly on one line; -1 if the stream failed. */
int
json_record_write(FILE *fp, json_t *v)
{
	json_write_value(fp, v, -1, 0);
	putc('\n', fp);
	return (ferror(fp) ? -1 : 0);
}

/*
 * Write v for people to edit: a record's fields one per line, and the
 * entries of its lists and maps one per line below them.
 */
int
json_record_write_pretty(FILE *fp, json_t *v)
{
	json_write_value(fp, v, 2, 0);
	putc('\n', fp);
	return (ferror(fp) ? -1 : 0);
}
