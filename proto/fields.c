/*
 * Field projection: the `fields` parameter of range, actor, get and
 * changes, as a set of record keys (a bitmask, see proto.h), and the
 * daemon's cutting of a stored record down to that set.
 *
 * The set is named on the wire as an array of key names and by people
 * (annals --fields, HTTP fields=) as a comma list; both give the same
 * errors, naming the entry at fault by its index.  id is always in a
 * set, named or not.
 *
 * fields_project() copies the chosen entries of a packed record as they
 * are: it walks only the top-level map, skipping each value unread with
 * frame_object(), so a projected record costs its kept bytes and one
 * walk, never a decode.
 */
#include <stdio.h>
#include <string.h>

#include "proto.h"

/* Fail with "fields[i]: reason" about the name of len bytes at p. */
static int
fields_bad(struct aerr *err, size_t i, const char *why, const char *p,
    size_t len)
{
	msgpack_object	o;
	char		q[80];

	o.type = MSGPACK_OBJECT_STR;
	o.via.str.ptr = p;
	o.via.str.size = (uint32_t)len;
	mp_quote(&o, q, sizeof q);
	aerr_set(err, AERR_INVALID, "fields[%zu]: %s \"%s\"", i, why, q);
	return (-1);
}

/* Add the name of len bytes at p, entry i, to *set. */
static int
fields_add(const char *p, size_t len, size_t i, uint32_t *set, uint32_t *seen,
    struct aerr *err)
{
	int	idx;

	if (len == 0) {
		aerr_set(err, AERR_INVALID, "fields[%zu]: must not be empty",
		    i);
		return (-1);
	}
	if ((idx = record_field_index(p, len, 0)) == -1)
		return (fields_bad(err, i, "unknown field", p, len));
	if (*seen & RECORD_FIELD(idx))
		return (fields_bad(err, i, "duplicate field", p, len));
	*seen |= RECORD_FIELD(idx);
	*set |= RECORD_FIELD(idx);
	return (0);
}

/*
 * The set named by obj, an array of 1 or more distinct key names (the
 * caller handles nil: whole records).
 */
int
fields_decode(const msgpack_object *obj, uint32_t *set, struct aerr *err)
{
	const msgpack_object	*o;
	uint32_t		 i, seen = 0;

	*set = RECORD_FIELD_ID;
	if (obj->type != MSGPACK_OBJECT_ARRAY) {
		aerr_set(err, AERR_INVALID, "fields: must be an array of field "
		    "names");
		return (-1);
	}
	if (obj->via.array.size == 0) {
		aerr_set(err, AERR_INVALID, "fields: 0 given, at least 1 "
		    "required");
		return (-1);
	}
	for (i = 0; i < obj->via.array.size; i++) {
		o = &obj->via.array.ptr[i];
		if (o->type != MSGPACK_OBJECT_STR) {
			aerr_set(err, AERR_INVALID, "fields[%u]: must be a "
			    "string", i);
			return (-1);
		}
		if (fields_add(o->via.str.ptr, o->via.str.size, i, set, &seen,
		    err) != 0)
			return (-1);
	}
	return (0);
}

/* The set named by a comma list, "id,start,title"; NULL or "": all. */
int
fields_parse(const char *list, uint32_t *set, struct aerr *err)
{
	const char	*p, *comma;
	uint32_t	 seen = 0;
	size_t		 i;

	*set = RECORD_FIELDS_ALL;
	if (list == NULL || *list == '\0')
		return (0);
	if (strlen(list) > RECORD_FIELDS_MAX_LIST) {
		aerr_set(err, AERR_INVALID, "fields: %zu bytes exceeds limit "
		    "%d", strlen(list), RECORD_FIELDS_MAX_LIST);
		return (-1);
	}
	*set = RECORD_FIELD_ID;
	for (p = list, i = 0;; p = comma + 1, i++) {
		if ((comma = strchr(p, ',')) == NULL)
			comma = p + strlen(p);
		if (fields_add(p, (size_t)(comma - p), i, set, &seen,
		    err) != 0) {
			*set = RECORD_FIELDS_ALL;
			return (-1);
		}
		if (*comma == '\0')
			return (0);
	}
}

/* Pack set as the array of its names, for a request. */
void
fields_pack(msgpack_packer *pk, uint32_t set)
{
	uint32_t	n = 0;
	int		i;

	for (i = 0; i < RECORD_NFIELDS; i++)
		n += (set & RECORD_FIELD(i)) != 0;
	msgpack_pack_array(pk, n);
	for (i = 0; i < RECORD_NFIELDS; i++) {
		if (set & RECORD_FIELD(i))
			mp_pack_str(pk, record_field_name(i));
	}
}

/*
 * Append the record packed in data (len bytes, a map as the daemon
 * stores it) to out with only the keys of set.  Returns -1, having
 * appended nothing, when data is not a map of at most RECORD_NFIELDS
 * str keys.
 *
 * record_pack() writes the keys in index order, so each key is looked
 * for from the one after the last.  A last entry that is not kept is not
 * walked: that is attrs, most of a GDELT row.
 */
int
fields_project(const void *data, size_t len, uint32_t set,
    msgpack_sbuffer *out)
{
	const unsigned char	*p = data;
	struct aerr		 err;
	msgpack_packer		 pk;
	size_t			 off, head, klen, vlen, n, i, kept = 0;
	size_t			 span[RECORD_NFIELDS][2];
	int			 idx = -1;

	if (len >= 1 && (p[0] & 0xf0) == 0x80) {
		n = p[0] & 0x0f;
		head = 1;
	} else if (len >= 3 && p[0] == 0xde) {
		n = (size_t)p[1] << 8 | p[2];
		head = 3;
	} else
		return (-1);
	if (n > RECORD_NFIELDS)
		return (-1);
	for (off = head, i = 0; i < n; i++) {
		/* Keys are short: a fixstr, as record_pack() writes them. */
		if (off == len || (p[off] & 0xe0) != 0xa0)
			return (-1);
		klen = 1 + (p[off] & 0x1f);
		if (klen > len - off)
			return (-1);
		idx = record_field_index((const char *)p + off + 1, klen - 1,
		    idx + 1);
		if (i == n - 1 && (idx == -1 || !(set & RECORD_FIELD(idx))))
			break;
		if (frame_object(p + off + klen, len - off - klen, &vlen,
		    &err) != 0)
			return (-1);
		if (idx != -1 && (set & RECORD_FIELD(idx))) {
			span[kept][0] = off;
			span[kept][1] = klen + vlen;
			kept++;
		}
		off += klen + vlen;
	}
	msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, kept);
	for (i = 0; i < kept; i++)
		msgpack_sbuffer_write(out, (const char *)p + span[i][0],
		    span[i][1]);
	return (0);
}

/* The set of the "fields" entry of a params map; absent or nil: all. */
int
fields_param(const msgpack_object *params, uint32_t *set, struct aerr *err)
{
	const msgpack_object	*o;

	*set = RECORD_FIELDS_ALL;
	if ((o = mp_get(params, "fields")) == NULL ||
	    o->type == MSGPACK_OBJECT_NIL)
		return (0);
	return (fields_decode(o, set, err));
}

/*
 * Append a stored record to out, cut down to set.  A record that
 * fields_project() cannot take apart goes whole: records are packed by
 * record_pack(), so this is for a store written by something else, and
 * more keys than asked for is better than none.
 */
void
fields_write(msgpack_sbuffer *out, const void *data, size_t len,
    uint32_t set)
{
	if (set == RECORD_FIELDS_ALL ||
	    fields_project(data, len, set, out) != 0)
		msgpack_sbuffer_write(out, data, len);
}
