/*
 * actors: known actors with their event counts, by name, paged, each
 * with the label it is shown with (names.c); with match, only those
 * whose label holds it, for completion on names.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"

/* Codes looked at per walk of the store when matching labels. */
#define ACTORS_MATCH_STEP	1000

struct actor_row {
	char		*name;
	uint64_t	 count;
};

/* A page of actors and their labels. */
struct actors_page {
	struct actor_row	*rows;
	struct names_label	*labels;	/* parallel to rows */
	size_t			 n;
	int			 more;
};

static void	actors_page_free(struct actors_page *);

static int
actors_page_one(void *arg, const char *name, size_t len, uint64_t count)
{
	struct actors_page	*a = arg;
	struct actor_row	*r = &a->rows[a->n++];

	r->name = xmalloc(len + 1);
	memcpy(r->name, name, len);
	r->name[len] = '\0';
	r->count = count;
	return (0);
}

/* Whether s holds m, ASCII letters in either case. */
static int
actors_label_has(const char *s, const char *m)
{
	size_t	i, mlen = strlen(m);

	for (; *s != '\0'; s++) {
		for (i = 0; i < mlen && s[i] != '\0' &&
		    tolower((unsigned char)s[i]) ==
		    tolower((unsigned char)m[i]); i++)
			;
		if (i == mlen)
			return (1);
	}
	return (0);
}

/* Label rows from, to of a; drop those whose label lacks match. */
static int
actors_page_label(struct actors_page *a, size_t from, const char *match,
    struct aerr *err)
{
	const char	**codes;
	size_t		  i, n = a->n - from, kept = from;
	int		  rc;

	codes = xcalloc(n + 1, sizeof *codes);
	for (i = 0; i < n; i++)
		codes[i] = a->rows[from + i].name;
	rc = names_labels(codes, n, a->labels + from, err);
	free(codes);
	if (rc != 0)	/* names_labels() freed them */
		memset(a->labels + from, 0, n * sizeof *a->labels);
	if (rc != 0 || match == NULL)
		return (rc);
	for (i = from; i < a->n; i++) {
		if (a->labels[i].label != NULL &&
		    actors_label_has(a->labels[i].label, match)) {
			a->rows[kept] = a->rows[i];
			a->labels[kept++] = a->labels[i];
			continue;
		}
		free(a->rows[i].name);
		free(a->labels[i].label);
	}
	a->n = kept;
	return (0);
}

/*
 * One page of at most limit actors after the name after (NULL: from the
 * first) with prefix, labeled; with match, only those whose label holds
 * match, looking at as many codes as it takes.  a->more says whether
 * more may follow the last row.  Free with actors_page_free().
 */
static int
actors_page(const char *prefix, const char *after, const char *match,
    uint32_t limit, struct actors_page *a, struct aerr *err)
{
	char		*from = after != NULL ? xstrdup(after) : NULL;
	uint32_t	 step;
	size_t		 start;
	int		 rc = 0;

	memset(a, 0, sizeof *a);
	step = match == NULL || limit > ACTORS_MATCH_STEP ? limit :
	    ACTORS_MATCH_STEP;
	a->rows = xcalloc((size_t)limit + step, sizeof *a->rows);
	a->labels = xcalloc((size_t)limit + step, sizeof *a->labels);
	do {
		start = a->n;
		if ((rc = store_actors(server->store, prefix, from,
		    match != NULL ? step : limit, actors_page_one, a,
		    &a->more, err)) != 0)
			break;
		if (a->n > start) {
			free(from);
			from = xstrdup(a->rows[a->n - 1].name);
		}
		if ((rc = actors_page_label(a, start, match, err)) != 0)
			break;
	} while (match != NULL && a->more && a->n < limit);
	/* A match past limit: the page ends at its limit-th row. */
	while (rc == 0 && a->n > limit) {
		a->n--;
		free(a->rows[a->n].name);
		free(a->labels[a->n].label);
		a->more = 1;
	}
	free(from);
	if (rc != 0)
		actors_page_free(a);
	return (rc);
}

static void
actors_page_free(struct actors_page *a)
{
	size_t	i;

	for (i = 0; i < a->n; i++)
		free(a->rows[i].name);
	names_labels_free(a->labels, a->n);
	free(a->rows);
	free(a->labels);
	memset(a, 0, sizeof *a);
}

static void
method_actors_exec(struct request *req)
{
	static const char *const params[] = { "prefix", "limit", "cursor",
	    "match", NULL };
	static const char *const strs[] = { "prefix", "cursor", "match" };
	const msgpack_object	*o;
	struct actors_page	 a;
	msgpack_packer		*pk;
	struct aerr		 err;
	char			*s[3] = { NULL, NULL, NULL };
	uint32_t		 limit;
	size_t			 i;

	if (dispatch_check_params(req, params, &err) != 0)
		goto fail;
	for (i = 0; i < 3; i++) {
		if ((o = mp_get(req->params, strs[i])) != NULL &&
		    o->type != MSGPACK_OBJECT_NIL &&
		    mp_str(o, strs[i], i == 2 ? DICT_MAX_NAME :
		    EVENT_MAX_ACTOR, &s[i], &err) != 0)
			goto fail;
	}
	if (dispatch_page_limit(req, &limit, &err) != 0 ||
	    actors_page(s[0], s[1], s[2] != NULL && *s[2] != '\0' ? s[2] :
	    NULL, limit, &a, &err) != 0)
		goto fail;
	pk = dispatch_reply_begin(req);
	msgpack_pack_map(pk, 2);
	mp_pack_str(pk, "actors");
	msgpack_pack_array(pk, a.n);
	for (i = 0; i < a.n; i++) {
		msgpack_pack_map(pk, a.labels[i].label != NULL ? 4 : 2);
		mp_pack_kv_str(pk, "name", a.rows[i].name);
		mp_pack_kv_uint(pk, "count", a.rows[i].count);
		names_pack_label(pk, &a.labels[i]);
	}
	mp_pack_str(pk, "cursor");
	if (a.more && a.n > 0)
		mp_pack_str(pk, a.rows[a.n - 1].name);
	else
		msgpack_pack_nil(pk);
	dispatch_reply_end(req);
	actors_page_free(&a);
	goto out;
fail:
	dispatch_error(req, &err);
out:
	for (i = 0; i < 3; i++)
		free(s[i]);
}

/*
 * A page of a hundred names (the HTTP API's default page) is a short
 * walk of one index: less than the hop to a reader thread and back.
 */
#define ACTORS_CHEAP_NAMES	100

static int
method_actors_cheap(const msgpack_object *params)
{
	const msgpack_object	*limit = mp_get(params, "limit");

	return (limit != NULL && limit->type ==
	    MSGPACK_OBJECT_POSITIVE_INTEGER &&
	    limit->via.u64 <= ACTORS_CHEAP_NAMES);
}

const struct method method_actors = { "actors", METHOD_READER,
    method_actors_exec, method_actors_cheap };
