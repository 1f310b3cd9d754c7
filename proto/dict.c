/*
 * Entries of the actor dictionary on the wire: decoded and checked for
 * the daemon, packed for the daemon's replies and the client's requests.
 *
 *	{"kind": "name", "code": "SYRGOV", "name": "Syria: government"}
 *	{"kind": "alias", "alias": "Bashar al-Assad", "codes": ["SYRGOV"],
 *	 "during": "2000-07-17/2024-12-08"}
 *
 * A key names an entry without the rest: {"kind": "alias", "alias":
 * "ISIS"}.  The same maps travel in the change feed, so an entry is its
 * own description.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int
dict_kind_parse(const char *s, size_t len)
{
	if (len == 4 && memcmp(s, "name", 4) == 0)
		return (DICT_NAME);
	if (len == 5 && memcmp(s, "alias", 5) == 0)
		return (DICT_ALIAS);
	return (0);
}

const char *
dict_kind_name(int kind)
{
	return (kind == DICT_ALIAS ? "alias" : "name");
}

/* The map key that holds an entry's key: a name is keyed by its code. */
const char *
dict_key_field(int kind)
{
	return (kind == DICT_ALIAS ? "alias" : "code");
}

/*
 * What keys and names share: 1 to max bytes of UTF-8 without a control
 * character, and no blank at either end, which would make two of them
 * look the same.
 */
static int
dict_check_text(const char *field, const char *s, size_t len, size_t max,
    struct aerr *err)
{
	size_t	i;

	if (len == 0) {
		aerr_set(err, AERR_INVALID, "%s: empty", field);
		return (-1);
	}
	if (len > max) {
		aerr_set(err, AERR_INVALID, "%s: %zu bytes exceeds limit %zu",
		    field, len, max);
		return (-1);
	}
	if (!utf8_valid(s, len) || memchr(s, '\0', len) != NULL) {
		aerr_set(err, AERR_INVALID, "%s: invalid UTF-8", field);
		return (-1);
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			aerr_set(err, AERR_INVALID, "%s: contains a control "
			    "character", field);
			return (-1);
		}
	}
	if (s[0] == ' ' || s[len - 1] == ' ') {
		aerr_set(err, AERR_INVALID, "%s: begins or ends with a space",
		    field);
		return (-1);
	}
	return (0);
}

/*
 * Whether s can be the key of an entry of this kind.  An alias ending in
 * '*' could never be asked for: the actor parameter's '*' makes a
 * prefix.
 */
int
dict_check_key(int kind, const char *s, size_t len, struct aerr *err)
{
	if (dict_check_text(dict_key_field(kind), s, len, kind == DICT_ALIAS ?
	    DICT_MAX_ALIAS : EVENT_MAX_ACTOR, err) != 0)
		return (-1);
	if (kind == DICT_ALIAS && s[len - 1] == '*') {
		aerr_set(err, AERR_INVALID, "alias: may not end in '*', "
		    "which makes an actor query a prefix");
		return (-1);
	}
	return (0);
}

/* Whether s can be the name of a code. */
int
dict_check_name(const char *s, size_t len, struct aerr *err)
{
	return (dict_check_text("name", s, len, DICT_MAX_NAME, err));
}

/*
 * Parse an alias's interval: a date or an EDTF interval (DATES.md).
 * The alias holds during the interval's strict range and possibly
 * during its widened one; no interval means always.
 */
int
dict_during(const char *during, struct dict_entry *e, struct aerr *err)
{
	struct date_span	s;

	if (during == NULL) {
		e->lo = e->flo = DATE_NEG_INF;
		e->hi = e->fhi = DATE_POS_INF;
		return (0);
	}
	if (date_parse(during, strlen(during), &s, err) != 0) {
		aerr_prefix(err, "during: ");
		return (-1);
	}
	e->lo = s.lo;
	e->hi = s.hi;
	e->flo = s.flo;
	e->fhi = s.fhi;
	return (0);
}

static int
dict_decode_alias(const msgpack_object *obj, struct dict_entry *e,
    struct aerr *err)
{
	const msgpack_object	*codes, *o;
	char			 field[32];
	uint32_t		 i, j;

	codes = mp_get(obj, "codes");
	if (codes == NULL || codes->type != MSGPACK_OBJECT_ARRAY) {
		aerr_set(err, AERR_INVALID, "codes: required, an array of "
		    "actor codes");
		return (-1);
	}
	if (codes->via.array.size == 0 ||
	    codes->via.array.size > DICT_MAX_CODES) {
		aerr_set(err, AERR_INVALID, "codes: %u given, 1 to %d allowed",
		    codes->via.array.size, DICT_MAX_CODES);
		return (-1);
	}
	e->codes = calloc(codes->via.array.size, sizeof *e->codes);
	if (e->codes == NULL) {
		aerr_set(err, AERR_NOMEM, "out of memory");
		return (-1);
	}
	for (i = 0; i < codes->via.array.size; i++) {
		snprintf(field, sizeof field, "codes[%u]", i);
		if (mp_str(&codes->via.array.ptr[i], field, EVENT_MAX_ACTOR,
		    &e->codes[i], err) != 0)
			return (-1);
		e->ncodes++;
		if (e->codes[i][0] == '\0') {
			aerr_set(err, AERR_INVALID, "%s: empty", field);
			return (-1);
		}
		for (j = 0; j < i; j++) {
			if (strcmp(e->codes[j], e->codes[i]) == 0) {
				aerr_set(err, AERR_INVALID, "%s: %s given "
				    "twice", field, e->codes[i]);
				return (-1);
			}
		}
	}
	if ((o = mp_get(obj, "during")) != NULL &&
	    o->type != MSGPACK_OBJECT_NIL &&
	    mp_str(o, "during", EVENT_MAX_DATE, &e->during, err) != 0)
		return (-1);
	return (dict_during(e->during, e, err));
}

/*
 * The kind and key of an entry or of a key map, with no other map keys
 * than an entry of that kind has (only kind and key with key_only).
 */
static int
dict_decode_head(const msgpack_object *obj, struct dict_entry *e,
    int key_only, struct aerr *err)
{
	static const char *const name_keys[] = { "kind", "code", "name",
	    "imported", NULL };
	static const char *const alias_keys[] = { "kind", "alias", "codes",
	    "during", NULL };
	const char *const	*keys;
	const msgpack_object	*kind, *k;
	const char		*field;
	uint32_t		 i;
	size_t			 j, nkeys;

	memset(e, 0, sizeof *e);
	if (obj->type != MSGPACK_OBJECT_MAP) {
		aerr_set(err, AERR_INVALID, "must be a map");
		return (-1);
	}
	kind = mp_get(obj, "kind");
	if (kind == NULL || kind->type != MSGPACK_OBJECT_STR ||
	    (e->kind = dict_kind_parse(kind->via.str.ptr,
	    kind->via.str.size)) == 0) {
		aerr_set(err, AERR_INVALID, "kind: required, \"name\" or "
		    "\"alias\"");
		return (-1);
	}
	keys = e->kind == DICT_NAME ? name_keys : alias_keys;
	nkeys = key_only ? 2 : SIZE_MAX;
	for (i = 0; i < obj->via.map.size; i++) {
		k = &obj->via.map.ptr[i].key;
		for (j = 0; j < nkeys && keys[j] != NULL &&
		    !mp_key_is(k, keys[j]); j++)
			;
		if (j == nkeys || keys[j] == NULL) {
			char	q[80];

			mp_quote(k, q, sizeof q);
			aerr_set(err, AERR_INVALID, "unknown key %s for %s %s",
			    q, key_only ? "the key of" : "a",
			    dict_kind_name(e->kind));
			return (-1);
		}
	}
	field = dict_key_field(e->kind);
	if (mp_str(mp_get(obj, field), field, PROTO_MAX_FRAME, &e->key,
	    err) != 0 ||
	    dict_check_key(e->kind, e->key, strlen(e->key), err) != 0) {
		dict_clear(e);
		return (-1);
	}
	return (0);
}

/* Decode a key map, {"kind": ..., "code"|"alias": ...}. */
int
dict_decode_key(const msgpack_object *obj, struct dict_entry *e,
    struct aerr *err)
{
	return (dict_decode_head(obj, e, 1, err));
}

/* Decode and check one entry; e is cleared on failure. */
int
dict_decode(const msgpack_object *obj, struct dict_entry *e,
    struct aerr *err)
{
	const msgpack_object	*o;

	if (dict_decode_head(obj, e, 0, err) != 0)
		return (-1);
	if (e->kind == DICT_NAME) {
		if (mp_str(mp_get(obj, "name"), "name", DICT_MAX_NAME,
		    &e->name, err) != 0 ||
		    dict_check_name(e->name, strlen(e->name), err) != 0)
			goto fail;
		if ((o = mp_get(obj, "imported")) != NULL &&
		    mp_bool(o, "imported", &e->imported, err) != 0)
			goto fail;
	} else if (dict_decode_alias(obj, e, err) != 0)
		goto fail;
	return (0);
fail:
	dict_clear(e);
	return (-1);
}

void
dict_pack(msgpack_packer *pk, const struct dict_entry *e)
{
	uint32_t	i;

	if (e->kind == DICT_NAME) {
		msgpack_pack_map(pk, e->imported ? 4 : 3);
		mp_pack_kv_str(pk, "kind", "name");
		mp_pack_kv_str(pk, "code", e->key);
		mp_pack_kv_str(pk, "name", e->name);
		if (e->imported) {
			mp_pack_str(pk, "imported");
			msgpack_pack_true(pk);
		}
		return;
	}
	msgpack_pack_map(pk, e->during != NULL ? 4 : 3);
	mp_pack_kv_str(pk, "kind", "alias");
	mp_pack_kv_str(pk, "alias", e->key);
	mp_pack_str(pk, "codes");
	msgpack_pack_array(pk, e->ncodes);
	for (i = 0; i < e->ncodes; i++)
		mp_pack_str(pk, e->codes[i]);
	if (e->during != NULL)
		mp_pack_kv_str(pk, "during", e->during);
}

/* The map that names an entry: {"kind": ..., "code"|"alias": key}. */
void
dict_pack_key(msgpack_packer *pk, int kind, const char *key, size_t len)
{
	msgpack_pack_map(pk, 2);
	mp_pack_kv_str(pk, "kind", dict_kind_name(kind));
	mp_pack_str(pk, dict_key_field(kind));
	msgpack_pack_str(pk, len);
	msgpack_pack_str_body(pk, key, len);
}

void
dict_clear(struct dict_entry *e)
{
	uint32_t	i;

	free(e->key);
	free(e->name);
	for (i = 0; i < e->ncodes; i++)
		free(e->codes[i]);
	free(e->codes);
	free(e->during);
	memset(e, 0, sizeof *e);
}
