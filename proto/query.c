/*
 * Range and actor queries: the params map to struct query and back, the
 * per-event filter, and the paging cursor.
 *
 * The cursor is QUERY_CURSOR_LEN bytes: a version byte (1), the last
 * event's strict start as a big-endian int64 with its sign bit flipped
 * (so the bytes sort like the numbers), its id as a big-endian uint64,
 * and an FNV-1a hash of the parameters that define the query (all but
 * limit and cursor), which is how a cursor from another query is told
 * apart.  The hash only guards against mistakes; a forged cursor can do
 * no more than start a page elsewhere.  fields is not hashed: it says
 * what of each event comes back, not which events.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define QUERY_CURSOR_VERSION	1
#define QUERY_SIGN		((uint64_t)1 << 63)

static const char *query_params[] = {
	"from", "to", "actor", "role", "type", "tag", "source", "precision",
	"certain", "within", "order", "limit", "cursor", "fields", "text",
	"alias"
};
enum {
	QUERY_P_FROM, QUERY_P_TO, QUERY_P_ACTOR, QUERY_P_ROLE, QUERY_P_TYPE,
	QUERY_P_TAG, QUERY_P_SOURCE, QUERY_P_PRECISION, QUERY_P_CERTAIN,
	QUERY_P_WITHIN, QUERY_P_ORDER, QUERY_P_LIMIT, QUERY_P_CURSOR,
	QUERY_P_FIELDS, QUERY_P_TEXT, QUERY_P_ALIAS, QUERY_NPARAMS
};

/* Hash an int as 8 fixed bytes, so no two fields can run together. */
static uint64_t
query_fnv_int(uint64_t h, int64_t v)
{
	unsigned char	b[8];
	int		i;

	for (i = 0; i < 8; i++)
		b[i] = ((uint64_t)v >> (56 - 8 * i)) & 0xff;
	return (hash_fnv(h, b, sizeof b));
}

/* Hash presence, then length and bytes: NULL, "" and "a" all differ. */
static uint64_t
query_fnv_str(uint64_t h, const char *s)
{
	size_t	len;

	if (s == NULL)
		return (query_fnv_int(h, -1));
	len = strlen(s);
	h = query_fnv_int(h, (int64_t)len);
	return (hash_fnv(h, s, len));
}

static uint64_t
query_hash(const struct query *q)
{
	uint64_t	h = HASH_FNV_INIT;

	h = query_fnv_int(h, q->kind);
	h = query_fnv_str(h, q->from);
	h = query_fnv_str(h, q->to);
	h = query_fnv_str(h, q->actor);
	h = query_fnv_int(h, q->actor_prefix);
	if (q->no_alias)	/* cursors given out before it stay good */
		h = query_fnv_int(h, q->no_alias);
	h = query_fnv_str(h, q->role);
	h = query_fnv_str(h, q->type);
	h = query_fnv_str(h, q->tag);
	h = query_fnv_str(h, q->source);
	h = query_fnv_int(h, q->min_prec);
	h = query_fnv_int(h, q->certain);
	h = query_fnv_int(h, q->within);
	h = query_fnv_int(h, q->desc);
	/* Hashed only when given, so that older cursors stay good. */
	if (q->text != NULL)
		h = query_fnv_str(h, q->text);
	return (h);
}

static void
query_put64(unsigned char *p, uint64_t v)
{
	int	i;

	for (i = 0; i < 8; i++)
		p[i] = (v >> (56 - 8 * i)) & 0xff;
}

static uint64_t
query_get64(const unsigned char *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (v);
}

/*
 * Write the cursor that resumes q after the event (start, id) into buf;
 * returns its length, or 0 if size is too small.
 */
size_t
query_cursor_encode(const struct query *q, int64_t start, uint64_t id,
    unsigned char *buf, size_t size)
{
	if (size < QUERY_CURSOR_LEN)
		return (0);
	buf[0] = QUERY_CURSOR_VERSION;
	query_put64(buf + 1, (uint64_t)start ^ QUERY_SIGN);
	query_put64(buf + 9, id);
	query_put64(buf + 17, query_hash(q));
	return (QUERY_CURSOR_LEN);
}

/* Take a cursor apart; q must be complete but for the cursor. */
static int
query_cursor_decode(const msgpack_object *obj, struct query *q,
    struct aerr *err)
{
	const unsigned char	*p;

	if (obj->type != MSGPACK_OBJECT_BIN ||
	    obj->via.bin.size != QUERY_CURSOR_LEN ||
	    (unsigned char)obj->via.bin.ptr[0] != QUERY_CURSOR_VERSION) {
		aerr_set(err, AERR_BAD_CURSOR, "cursor is malformed");
		return (-1);
	}
	p = (const unsigned char *)obj->via.bin.ptr;
	if (query_get64(p + 17) != query_hash(q)) {
		aerr_set(err, AERR_BAD_CURSOR,
		    "cursor does not belong to this query");
		return (-1);
	}
	q->has_cursor = 1;
	q->cur_start = (int64_t)(query_get64(p + 1) ^ QUERY_SIGN);
	q->cur_id = query_get64(p + 9);
	return (0);
}

/* A filter string: present and not empty. */
static int
query_str(const msgpack_object *obj, const char *field, size_t max,
    char **out, struct aerr *err)
{
	if (mp_str(obj, field, max, out, err) != 0)
		return (-1);
	if (**out == '\0') {
		aerr_set(err, AERR_INVALID, "%s: must not be empty", field);
		return (-1);
	}
	return (0);
}

/* The actor parameter: a name, or a prefix when it ends in '*'. */
static int
query_actor(const msgpack_object *obj, struct query *q, struct aerr *err)
{
	size_t	len;

	if (query_str(obj, "actor", EVENT_MAX_ACTOR + 1, &q->actor, err) != 0)
		return (-1);
	len = strlen(q->actor);
	if (q->actor[len - 1] == '*') {
		if (len == 1) {
			aerr_set(err, AERR_INVALID,
			    "actor: \"*\" is an empty prefix");
			return (-1);
		}
		q->actor[--len] = '\0';
		q->actor_prefix = 1;
	}
	if (len > EVENT_MAX_ACTOR) {
		aerr_set(err, AERR_INVALID, "actor: %zu bytes exceeds limit %d",
		    len, EVENT_MAX_ACTOR);
		return (-1);
	}
	return (0);
}

static int
query_param(int idx, const msgpack_object *val, struct query *q,
    struct aerr *err)
{
	char		*s;
	uint64_t	 u;
	int		 rc;

	switch (idx) {
	case QUERY_P_FROM:
		return (mp_str(val, "from", EVENT_MAX_DATE, &q->from, err));
	case QUERY_P_TO:
		return (mp_str(val, "to", EVENT_MAX_DATE, &q->to, err));
	case QUERY_P_ACTOR:
		return (query_actor(val, q, err));
	case QUERY_P_ROLE:
		return (query_str(val, "role", EVENT_MAX_ROLE, &q->role, err));
	case QUERY_P_TYPE:
		return (query_str(val, "type", EVENT_MAX_TYPE, &q->type, err));
	case QUERY_P_TAG:
		return (query_str(val, "tag", EVENT_MAX_TAG, &q->tag, err));
	case QUERY_P_SOURCE:
		return (query_str(val, "source", EVENT_MAX_SOURCE, &q->source,
		    err));
	case QUERY_P_PRECISION:
		if (mp_str(val, "precision", EVENT_MAX_TYPE, &s, err) != 0)
			return (-1);
		rc = date_prec_parse(s, &q->min_prec);
		free(s);
		if (rc != 0 || q->min_prec == DATE_PREC_NONE) {
			aerr_set(err, AERR_INVALID, "precision: must be one of "
			    "year, season, month, day, time");
			return (-1);
		}
		return (0);
	case QUERY_P_CERTAIN:
		return (mp_bool(val, "certain", &q->certain, err));
	case QUERY_P_WITHIN:
		return (mp_bool(val, "within", &q->within, err));
	case QUERY_P_ORDER:
		if (mp_key_is(val, "asc"))
			q->desc = 0;
		else if (mp_key_is(val, "desc"))
			q->desc = 1;
		else {
			aerr_set(err, AERR_INVALID,
			    "order: must be asc or desc");
			return (-1);
		}
		return (0);
	case QUERY_P_LIMIT:
		if (mp_uint(val, "limit", &u, err) != 0)
			return (-1);
		if (u == 0 || u > PROTO_MAX_PAGE) {
			aerr_set(err, AERR_INVALID, "limit: %" PRIu64 " is "
			    "outside 1 to %d", u, PROTO_MAX_PAGE);
			return (-1);
		}
		q->limit = (uint32_t)u;
		return (0);
	case QUERY_P_FIELDS:
		return (fields_decode(val, &q->fields, err));
	case QUERY_P_TEXT:
		return (query_str(val, "text", QUERY_MAX_TEXT, &q->text, err));
	case QUERY_P_ALIAS:
		if (mp_bool(val, "alias", &rc, err) != 0)
			return (-1);
		q->no_alias = !rc;
		return (0);
	}
	aerr_set(err, AERR_INTERNAL, "query parameter %d has no decoder",
	    idx);
	return (-1);
}

/*
 * Decode the params map of a range (kind QUERY_RANGE) or actor
 * (QUERY_ACTOR) request into q, which is overwritten; params NULL means
 * none were given.  On success the caller frees q with query_clear(); on
 * failure q is left cleared.  A parameter given as nil counts as absent.
 */
int
query_decode(const msgpack_object *params, int kind, struct query *q,
    struct aerr *err)
{
	const msgpack_object_kv	*kv;
	const msgpack_object	*cursor = NULL;
	uint32_t		 i, seen = 0;
	int			 idx;
	char			 quoted[80];

	memset(q, 0, sizeof *q);
	q->kind = kind;
	q->limit = PROTO_DEFAULT_PAGE;
	q->fields = RECORD_FIELDS_ALL;
	if (params != NULL && params->type != MSGPACK_OBJECT_MAP) {
		aerr_set(err, AERR_INVALID, "params must be a map");
		goto fail;
	}
	for (i = 0; params != NULL && i < params->via.map.size; i++) {
		kv = &params->via.map.ptr[i];
		for (idx = 0; idx < QUERY_NPARAMS; idx++) {
			if (mp_key_is(&kv->key, query_params[idx]))
				break;
		}
		if (idx == QUERY_NPARAMS) {
			mp_quote(&kv->key, quoted, sizeof quoted);
			aerr_set(err, AERR_INVALID, "unknown parameter \"%s\"",
			    quoted);
			goto fail;
		}
		if (seen & (1u << idx)) {
			aerr_set(err, AERR_INVALID,
			    "duplicate parameter \"%s\"", query_params[idx]);
			goto fail;
		}
		seen |= 1u << idx;
		if (kv->val.type == MSGPACK_OBJECT_NIL)
			continue;
		/* The cursor is checked against everything else, last. */
		if (idx == QUERY_P_CURSOR)
			cursor = &kv->val;
		else if (query_param(idx, &kv->val, q, err) != 0)
			goto fail;
	}

	if (kind == QUERY_ACTOR && q->actor == NULL) {
		aerr_set(err, AERR_INVALID, "actor: required");
		goto fail;
	}
	if (q->role != NULL && q->actor == NULL) {
		aerr_set(err, AERR_INVALID, "role: requires actor");
		goto fail;
	}
	if (date_query_bounds(q->from, q->to, &q->qlo, &q->qhi, err) != 0)
		goto fail;
	if (cursor != NULL && query_cursor_decode(cursor, q, err) != 0)
		goto fail;
	return (0);

fail:
	query_clear(q);
	return (-1);
}

/* Whether q asks for less than whole records (0 is whole, as is all). */
static int
query_projects(const struct query *q)
{
	return (q->fields != 0 && q->fields != RECORD_FIELDS_ALL);
}

/*
 * Pack the params map of q, for a client: only the fields that are set,
 * the actor with its '*' when a prefix, and cursor (cursor_len bytes) as
 * bin when not NULL.
 */
void
query_pack(msgpack_packer *pk, const struct query *q, const void *cursor,
    size_t cursor_len)
{
	uint32_t	n;
	size_t		len;

	n = (q->from != NULL) + (q->to != NULL) + (q->actor != NULL) +
	    (q->role != NULL) + (q->type != NULL) + (q->tag != NULL) +
	    (q->source != NULL) + (q->min_prec != DATE_PREC_NONE) +
	    (q->certain != 0) + (q->within != 0) + (q->desc != 0) +
	    (q->limit != 0) + (cursor != NULL) + query_projects(q) +
	    (q->text != NULL) + (q->no_alias != 0);
	msgpack_pack_map(pk, n);
	if (q->from != NULL)
		mp_pack_kv_str(pk, "from", q->from);
	if (q->to != NULL)
		mp_pack_kv_str(pk, "to", q->to);
	if (q->actor != NULL) {
		mp_pack_str(pk, "actor");
		len = strlen(q->actor);
		msgpack_pack_str(pk, len + (q->actor_prefix != 0));
		msgpack_pack_str_body(pk, q->actor, len);
		if (q->actor_prefix)
			msgpack_pack_str_body(pk, "*", 1);
	}
	if (q->role != NULL)
		mp_pack_kv_str(pk, "role", q->role);
	if (q->type != NULL)
		mp_pack_kv_str(pk, "type", q->type);
	if (q->tag != NULL)
		mp_pack_kv_str(pk, "tag", q->tag);
	if (q->source != NULL)
		mp_pack_kv_str(pk, "source", q->source);
	if (q->text != NULL)
		mp_pack_kv_str(pk, "text", q->text);
	if (q->min_prec != DATE_PREC_NONE)
		mp_pack_kv_str(pk, "precision", date_prec_name(q->min_prec));
	if (q->certain) {
		mp_pack_str(pk, "certain");
		msgpack_pack_true(pk);
	}
	if (q->within) {
		mp_pack_str(pk, "within");
		msgpack_pack_true(pk);
	}
	if (q->desc)
		mp_pack_kv_str(pk, "order", "desc");
	if (q->limit != 0)
		mp_pack_kv_uint(pk, "limit", q->limit);
	if (cursor != NULL) {
		mp_pack_str(pk, "cursor");
		msgpack_pack_bin(pk, cursor_len);
		msgpack_pack_bin_body(pk, cursor, cursor_len);
	}
	if (query_projects(q)) {
		mp_pack_str(pk, "fields");
		fields_pack(pk, q->fields);
	}
	if (q->no_alias) {
		mp_pack_str(pk, "alias");
		msgpack_pack_false(pk);
	}
}

/* Free what q owns and zero it; safe to call again. */
void
query_clear(struct query *q)
{
	uint32_t	i;

	free(q->from);
	free(q->to);
	free(q->actor);
	free(q->role);
	free(q->type);
	free(q->tag);
	free(q->source);
	free(q->text);
	for (i = 0; i < q->ncodes; i++)
		free(q->codes[i]);
	free(q->codes);
	memset(q, 0, sizeof *q);
}

static int
query_has_tag(const struct event *ev, const char *tag)
{
	uint32_t	i;

	for (i = 0; i < ev->ntags; i++) {
		if (strcmp(ev->tags[i], tag) == 0)
			return (1);
	}
	return (0);
}

static int
query_has_actor_prefix(const struct event *ev, const char *prefix,
    const char *role)
{
	const struct actor	*a;
	size_t			 len;
	uint32_t		 i;

	len = strlen(prefix);
	for (i = 0; i < ev->nactors; i++) {
		a = &ev->actors[i];
		if (strncmp(a->name, prefix, len) != 0)
			continue;
		if (role != NULL &&
		    (a->role == NULL || strcmp(a->role, role) != 0))
			continue;
		return (1);
	}
	return (0);
}

/*
 * Whether ev passes every filter of q; *match is then DATE_MATCH_CERTAIN
 * or DATE_MATCH_POSSIBLE.  The index scan that found ev (by time or by
 * actor) is the caller's, but the actor is checked here all the same.
 */
int
query_matches(const struct query *q, const struct event *ev, int *match)
{
	uint32_t	i;
	int		m;

	m = date_match(&ev->span, q->qlo, q->qhi);
	if (m == DATE_MATCH_NONE)
		return (0);
	if (q->certain && m != DATE_MATCH_CERTAIN)
		return (0);
	if (q->within && !date_within(&ev->span, q->qlo, q->qhi))
		return (0);
	if (ev->span.prec < q->min_prec)
		return (0);
	if (q->type != NULL && (ev->type == NULL ||
	    strncmp(ev->type, q->type, strlen(q->type)) != 0))
		return (0);
	if (q->tag != NULL && !query_has_tag(ev, q->tag))
		return (0);
	if (q->source != NULL &&
	    (ev->source == NULL || strcmp(ev->source, q->source) != 0))
		return (0);
	if ((m = query_alias_match(q, &ev->span, m)) != DATE_MATCH_CERTAIN &&
	    q->certain)
		return (0);
	if (q->ncodes > 0) {
		for (i = 0; i < q->ncodes; i++) {
			if (record_has_actor(ev, q->codes[i],
			    strlen(q->codes[i]), q->role))
				break;
		}
		if (i == q->ncodes)
			return (0);
	} else if (q->actor != NULL) {
		if (q->actor_prefix ?
		    !query_has_actor_prefix(ev, q->actor, q->role) :
		    !record_has_actor(ev, q->actor, strlen(q->actor), q->role))
			return (0);
	}
	*match = m;
	return (1);
}

/*
 * Make q a query by the alias e (PROTOCOL.md, "Aliases in queries"): the
 * events of any of its codes, within the query's range narrowed to the
 * alias's widened interval.  Returns 0, or -1 when out of memory.
 */
int
query_set_alias(struct query *q, const struct dict_entry *e)
{
	uint32_t	i;

	if ((q->codes = calloc(e->ncodes, sizeof *q->codes)) == NULL)
		return (-1);
	for (i = 0; i < e->ncodes; i++) {
		if ((q->codes[i] = strdup(e->codes[i])) == NULL)
			return (-1);
		q->ncodes++;
	}
	q->olo = q->qlo;
	q->ohi = q->qhi;
	q->alo = q->qlo > e->lo ? q->qlo : e->lo;
	q->ahi = q->qhi < e->hi ? q->qhi : e->hi;
	if (e->flo > q->qlo)
		q->qlo = e->flo;
	if (e->fhi < q->qhi)
		q->qhi = e->fhi;
	return (0);
}

/*
 * The match of an event found through an alias: m (its match on the
 * narrowed range) stays certain only when it is certain on the range
 * the alias surely covers too.
 */
int
query_alias_match(const struct query *q, const struct date_span *s, int m)
{
	if (q->ncodes == 0)
		return (m);
	/* The query's range and the alias's interval do not meet. */
	if (q->qlo > q->qhi)
		return (DATE_MATCH_NONE);
	if (m != DATE_MATCH_CERTAIN)
		return (m);
	if (q->alo > q->ahi ||
	    date_match(s, q->alo, q->ahi) != DATE_MATCH_CERTAIN)
		return (DATE_MATCH_POSSIBLE);
	return (m);
}

/*
 * Which of an alias query's codes a packed record's actors array
 * (stored form: maps with name and role, or strs) holds, in the role
 * asked for; NULL when none.
 */
const char *
query_alias_code(const struct query *q, const msgpack_object *actors)
{
	const msgpack_object	*a, *name, *role;
	uint32_t		 i, j;

	if (actors == NULL || actors->type != MSGPACK_OBJECT_ARRAY)
		return (NULL);
	for (i = 0; i < q->ncodes; i++) {
		for (j = 0; j < actors->via.array.size; j++) {
			a = &actors->via.array.ptr[j];
			name = a->type == MSGPACK_OBJECT_STR ? a :
			    mp_get(a, "name");
			role = a->type == MSGPACK_OBJECT_MAP ?
			    mp_get(a, "role") : NULL;
			if (!mp_key_is(name, q->codes[i]))
				continue;
			if (q->role != NULL && !mp_key_is(role, q->role))
				continue;
			return (q->codes[i]);
		}
	}
	return (NULL);
}

/*
 * The via of an alias query's hit, from its packed record as stored:
 * the first of the query's codes it has (query_alias_code()), or NULL.
 * The code is the query's own, so it outlives the record.
 */
const char *
query_via_code(const struct query *q, const void *data, size_t len)
{
	msgpack_unpacked	 u;
	const char		*code = NULL;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, data, len, NULL) ==
	    MSGPACK_UNPACK_SUCCESS)
		code = query_alias_code(q, mp_get(&u.data, "actors"));
	msgpack_unpacked_destroy(&u);
	return (code);
}
