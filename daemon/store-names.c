/*
 * The counts of the actors, types and words in use, each with the mask
 * of the classes it is used with, which the query planner reads to know
 * which of a name's index ranges to scan:
 *
 *	actors, types, words	name -> count(8) mask(8)
 *
 * A write transaction changes the counts of the actor and type of every
 * event it writes, and a batch names the same few actors and types over
 * and over.  In the writer's transactions the changes add up in memory
 * (store_name_add) and each name's total reaches its database once, in
 * key order through one cursor (store_names_flush), where a read and a
 * write per event and name each descended from the root.
 */
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "annalsd.h"
#include "store-int.h"

/* The changes of one name's count and mask, waiting for the flush. */
struct name_delta {
	MDB_dbi		 dbi;
	uint32_t	 hash;
	int64_t		 delta;
	uint64_t	 mask;
	size_t		 len;
	char		 name[];
};

static uint32_t
name_hash(MDB_dbi dbi, const char *name, size_t len)
{
	uint32_t	h = 2166136261u ^ (uint32_t)dbi;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 16777619u;
	return (h);
}

/*
 * Add delta to the count of a name (an actor, type or word) in names,
 * recording the class it is used with.  A name whose count falls to
 * zero is removed.
 */
int
store_name_count(struct wctx *w, MDB_dbi names, const char *name, int delta,
    int class)
{
	MDB_val		k = { strlen(name), (void *)name }, v;
	unsigned char	buf[16];
	uint64_t	count = 0, mask = 0;
	int		rc;

	rc = mdb_get(w->txn, names, &k, &v);
	if (rc == 0 && v.mv_size == 16) {
		count = skey_get_be64(v.mv_data);
		mask = skey_get_be64((const unsigned char *)v.mv_data + 8);
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	if (delta < 0 && count <= 1)
		return (mdb_del(w->txn, names, &k, NULL));
	count += delta;
	/* The mask only grows: a stale bit costs one empty seek. */
	mask |= UINT64_C(1) << class;
	skey_be64(buf, count);
	skey_be64(buf + 8, mask);
	v.mv_size = 16;
	v.mv_data = buf;
	return (mdb_put(w->txn, names, &k, &v, 0));
}

static void
pend_grow(struct name_pend *p)
{
	struct name_delta	**old = p->slot, *d;
	size_t			  oldn = p->nslot, i, j;

	p->nslot = oldn ? oldn * 2 : 256;
	p->slot = xcalloc(p->nslot, sizeof *p->slot);
	for (i = 0; i < oldn; i++) {
		if ((d = old[i]) == NULL)
			continue;
		for (j = d->hash & (p->nslot - 1); p->slot[j] != NULL;
		    j = (j + 1) & (p->nslot - 1))
			;
		p->slot[j] = d;
	}
	free(old);
}

/*
 * As store_name_count, held back until store_names_flush() when w
 * gathers the changes (w->names), as the writer's transactions do.
 */
int
store_name_add(struct wctx *w, MDB_dbi names, const char *name, int delta,
    int class)
{
	struct name_pend	*p = w->names;
	struct name_delta	*d;
	size_t			 len, i;
	uint32_t		 h;

	if (p == NULL)
		return (store_name_count(w, names, name, delta, class));
	if (2 * (p->n + 1) > p->nslot)
		pend_grow(p);
	len = strlen(name);
	h = name_hash(names, name, len);
	for (i = h & (p->nslot - 1); (d = p->slot[i]) != NULL;
	    i = (i + 1) & (p->nslot - 1)) {
		if (d->hash == h && d->dbi == names && d->len == len &&
		    memcmp(d->name, name, len) == 0)
			break;
	}
	if (d == NULL) {
		d = xmalloc(sizeof *d + len);
		d->dbi = names;
		d->hash = h;
		d->delta = 0;
		d->mask = 0;
		d->len = len;
		memcpy(d->name, name, len);
		p->slot[i] = d;
		p->n++;
	}
	d->delta += delta;
	d->mask |= UINT64_C(1) << class;
	return (0);
}

/* By database, then in the order of the database's keys (store_cmp's). */
static int
delta_cmp(const void *a, const void *b)
{
	const struct name_delta	*x = *(const struct name_delta *const *)a;
	const struct name_delta	*y = *(const struct name_delta *const *)b;
	int			 c;

	if (x->dbi != y->dbi)
		return (x->dbi < y->dbi ? -1 : 1);
	if ((c = memcmp(x->name, y->name, x->len < y->len ? x->len :
	    y->len)) != 0)
		return (c);
	return (x->len < y->len ? -1 : x->len > y->len);
}

/* Bring one name's count and mask up to date through cur. */
static int
delta_apply(MDB_cursor *cur, const struct name_delta *d)
{
	MDB_val		k = { d->len, (void *)d->name }, v;
	unsigned char	buf[16];
	uint64_t	count = 0, mask = 0;
	int		rc, found;

	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	if ((found = rc == 0) && v.mv_size == 16) {
		count = skey_get_be64(v.mv_data);
		mask = skey_get_be64((const unsigned char *)v.mv_data + 8);
	}
	if ((int64_t)count + d->delta <= 0)
		return (found ? mdb_cursor_del(cur, 0) : 0);
	/* Events put and deleted again, with classes already known. */
	if (found && d->delta == 0 && (mask | d->mask) == mask)
		return (0);
	skey_be64(buf, (uint64_t)((int64_t)count + d->delta));
	skey_be64(buf + 8, mask | d->mask);
	k.mv_size = d->len;
	k.mv_data = (void *)d->name;
	v.mv_size = sizeof buf;
	v.mv_data = buf;
	return (mdb_cursor_put(cur, &k, &v, found ? MDB_CURRENT : 0));
}

/* Write the gathered changes of w into its transaction, and forget them. */
int
store_names_flush(struct wctx *w)
{
	struct name_pend	 *p = w->names;
	struct name_delta	**v;
	MDB_cursor		 *cur = NULL;
	size_t			  i, n = 0;
	int			  rc = 0;

	if (p == NULL || p->n == 0)
		return (0);
	v = xreallocarray(NULL, p->n, sizeof *v);
	for (i = 0; i < p->nslot; i++) {
		if (p->slot[i] != NULL)
			v[n++] = p->slot[i];
	}
	qsort(v, n, sizeof *v, delta_cmp);
	for (i = 0; i < n && rc == 0; i++) {
		if (i == 0 || v[i]->dbi != v[i - 1]->dbi) {
			if (cur != NULL)
				mdb_cursor_close(cur);
			if ((rc = mdb_cursor_open(w->txn, v[i]->dbi,
			    &cur)) != 0) {
				cur = NULL;
				break;
			}
		}
		rc = delta_apply(cur, v[i]);
	}
	if (cur != NULL)
		mdb_cursor_close(cur);
	free(v);
	store_names_discard(w);
	return (rc);
}

/* Forget the changes w gathered: its transaction is aborted. */
void
store_names_discard(struct wctx *w)
{
	struct name_pend	*p = w->names;
	size_t			 i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nslot; i++)
		free(p->slot[i]);
	free(p->slot);
	p->slot = NULL;
	p->nslot = p->n = 0;
}
