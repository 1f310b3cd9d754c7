/*
 * Events as JSON, for annals(1): the same map with the same keys as the
 * wire record (PROTOCOL.md), so that a line printed by "annals range" is
 * a line "annals add -" accepts.
 *
 * attrs convert both ways without loss: msgpack integers become JSON
 * integers and floats become JSON reals; proto/json.c writes reals so
 * that they read back as reals, and carries integers above INT64_MAX,
 * which jansson cannot hold, both ways (json_u64).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
	return (json_object_set_new(obj, key, json_u64(v)));
}

/* A msgpack value as JSON; NULL with err set for bin and ext values. */
json_t *
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
		return (json_u64(o->via.u64));
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

/* Pack a JSON object of attributes into sb, which the caller set up. */
int
json_record_attrs(json_t *attrs, msgpack_sbuffer *sb, char *err,
    size_t errlen)
{
	msgpack_packer	pk;
	struct aerr	ae;

	if (!json_is_object(attrs)) {
		json_fail(err, errlen, "attrs: must be an object");
		return (-1);
	}
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	aerr_set(&ae, AERR_INVALID, "out of memory");
	if (json_to_mp(&pk, attrs, PROTO_RECORD_DEPTH + 1, &ae) != 0) {
		json_fail(err, errlen, "attrs: %s", ae.msg);
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
 * json_record_clear(), also after a failure.  rev, created, updated,
 * match and via are accepted and ignored, so output can be fed back.
 * The daemon does the rest of the checking.
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
		    strcmp(key, "updated") == 0 || strcmp(key, "match") == 0 ||
		    strcmp(key, "via") == 0)
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

static void
json_file_write(void *arg, const void *buf, size_t len)
{
	fwrite(buf, 1, len, arg);
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
	const struct json_out	 out = { json_file_write, fp };
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
				json_out_str(&out, key, strlen(key));
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
		if (json_u64_value(v, &u))
			fprintf(fp, "%" PRIu64, u);
		else
			json_out_str(&out, json_string_value(v),
			    json_string_length(v));
		break;
	case JSON_INTEGER:
		fprintf(fp, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		json_out_real(&out, json_real_value(v));
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
