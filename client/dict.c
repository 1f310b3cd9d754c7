/*
 * libannals: the actor dictionary's calls (dict_put, dict_delete,
 * dict_get of a code, dict_list), typed, so that a caller builds no
 * msgpack.  Entries in replies are checked with the daemon's own decoder
 * (proto/dict.c) and handed to callbacks as views of its copies.
 */
#include <stdlib.h>
#include <string.h>

#include "annals-int.h"

_Static_assert(ANNALS_DICT_NAME == DICT_NAME &&
    ANNALS_DICT_ALIAS == DICT_ALIAS, "dictionary kinds");

/* A view of a decoded entry. */
static void
dict_view(const struct dict_entry *e, struct annals_dict_entry *v)
{
	memset(v, 0, sizeof *v);
	v->kind = e->kind;
	v->key = e->key;
	v->name = e->name;
	v->codes = (const char *const *)e->codes;
	v->ncodes = e->ncodes;
	v->during = e->during;
	v->imported = e->imported;
}

/* Check an entry (only its kind and key with key_only) before packing. */
static int
dict_check_entry(annals_ctx *ctx, const struct annals_dict_entry *e,
    size_t i, int key_only)
{
	struct aerr	err;
	size_t		j;

	if ((e->kind != ANNALS_DICT_NAME && e->kind != ANNALS_DICT_ALIAS) ||
	    e->key == NULL) {
		annals_fail(ctx, ANNALS_EINVALID, "entries[%zu]: kind and key "
		    "are required", i);
		return (-1);
	}
	if (dict_check_key(e->kind, e->key, strlen(e->key), &err) != 0) {
		annals_fail(ctx, ANNALS_EINVALID, "entries[%zu]: %s", i,
		    err.msg);
		return (-1);
	}
	if (key_only)
		return (0);
	if (e->kind == ANNALS_DICT_NAME && e->name == NULL) {
		annals_fail(ctx, ANNALS_EINVALID, "entries[%zu]: name: "
		    "required", i);
		return (-1);
	}
	for (j = 0; e->kind == ANNALS_DICT_ALIAS && j < e->ncodes; j++) {
		if (e->codes == NULL || e->codes[j] == NULL) {
			annals_fail(ctx, ANNALS_EINVALID, "entries[%zu]: "
			    "codes[%zu]: NULL", i, j);
			return (-1);
		}
	}
	return (0);
}

/*
 * Pack an entry, or with key_only what names it, with the daemon's own
 * packer: the caller's strings are only read through the view.
 */
static void
dict_pack_entry(msgpack_packer *pk, const struct annals_dict_entry *e,
    int key_only)
{
	struct dict_entry	d;

	if (key_only) {
		dict_pack_key(pk, e->kind, e->key, strlen(e->key));
		return;
	}
	memset(&d, 0, sizeof d);
	d.kind = e->kind;
	d.key = (char *)e->key;
	d.name = (char *)e->name;
	d.imported = e->kind == ANNALS_DICT_NAME && e->imported;
	d.codes = (char **)e->codes;
	d.ncodes = (uint32_t)e->ncodes;
	d.during = (char *)e->during;
	dict_pack(pk, &d);
}

/*
 * Send dict_put or dict_delete of n entries and return the array under
 * key of its result, of n items, in *r's reply; NULL with ctx's error.
 */
static const msgpack_object *
dict_write(annals_ctx *ctx, const char *method,
    const struct annals_dict_entry *entries, size_t n, int only_new,
    const char *key, struct annals_reply *r)
{
	const msgpack_object	*map, *list;
	msgpack_packer		*pk;
	uint32_t		 msgid;
	size_t			 i;
	int			 put = strcmp(method, "dict_put") == 0;

	if (annals_enter(ctx) == -1)
		return (NULL);
	if (n == 0 || n > DICT_MAX_ENTRIES) {
		annals_fail(ctx, ANNALS_EINVALID, "%s: %zu given, 1 to %d "
		    "allowed", put ? "entries" : "keys", n, DICT_MAX_ENTRIES);
		return (NULL);
	}
	for (i = 0; i < n; i++) {
		if (dict_check_entry(ctx, &entries[i], i, !put) != 0)
			return (NULL);
	}
	pk = annals_request(ctx, method, &msgid);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, put && only_new ? 2 : 1);
	if (put && only_new) {
		mp_pack_str(pk, "only_new");
		msgpack_pack_true(pk);
	}
	mp_pack_str(pk, put ? "entries" : "keys");
	msgpack_pack_array(pk, (uint32_t)n);
	for (i = 0; i < n; i++)
		dict_pack_entry(pk, &entries[i], !put);
	if (annals_roundtrip(ctx, msgid, r) == -1 ||
	    (map = annals_result_map(ctx, r, method)) == NULL)
		return (NULL);
	list = mp_get(map, key);
	if (list == NULL || list->type != MSGPACK_OBJECT_ARRAY ||
	    list->via.array.size != n) {
		annals_reply_free(r);
		annals_break(ctx, ANNALS_EPROTOCOL, "%s: result: %s must be "
		    "an array of %zu", method, key, n);
		return (NULL);
	}
	return (list);
}

int
annals_dict_put(annals_ctx *ctx, const struct annals_dict_entry *entries,
    size_t n, int only_new, int *statuses)
{
	static const char *const names[] = { "added", "updated",
	    "unchanged", "kept" };
	struct annals_reply	 r;
	const msgpack_object	*list, *st;
	size_t			 i, k;

	if ((list = dict_write(ctx, "dict_put", entries, n, only_new,
	    "results", &r)) == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		st = mp_get(&list->via.array.ptr[i], "status");
		for (k = 0; k < 4 && !mp_key_is(st, names[k]); k++)
			;
		if (k == 4) {
			annals_reply_free(&r);
			annals_break(ctx, ANNALS_EPROTOCOL, "dict_put: result: "
			    "results[%zu] has no known status", i);
			return (-1);
		}
		if (statuses != NULL)
			statuses[i] = (int)k + ANNALS_ADDED;
	}
	annals_reply_free(&r);
	return (0);
}

int
annals_dict_delete(annals_ctx *ctx, const struct annals_dict_entry *keys,
    size_t n, int *deleted)
{
	struct annals_reply	 r;
	const msgpack_object	*list, *o;
	size_t			 i;

	if ((list = dict_write(ctx, "dict_delete", keys, n, 0, "deleted",
	    &r)) == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		o = &list->via.array.ptr[i];
		if (o->type != MSGPACK_OBJECT_BOOLEAN) {
			annals_reply_free(&r);
			annals_break(ctx, ANNALS_EPROTOCOL, "dict_delete: "
			    "result: deleted[%zu] is not a boolean", i);
			return (-1);
		}
		if (deleted != NULL)
			deleted[i] = o->via.boolean;
	}
	annals_reply_free(&r);
	return (0);
}

/* An owned copy of a str or nil object; *out NULL for nil or absent. */
static int
dict_str(annals_ctx *ctx, const msgpack_object *o, const char *what,
    char **out)
{
	*out = NULL;
	if (o == NULL || o->type == MSGPACK_OBJECT_NIL)
		return (0);
	if (o->type != MSGPACK_OBJECT_STR) {
		annals_break(ctx, ANNALS_EPROTOCOL, "result: %s is not a "
		    "string", what);
		return (-1);
	}
	if ((*out = strndup(o->via.str.ptr, o->via.str.size)) == NULL) {
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		return (-1);
	}
	return (0);
}

/*
 * Decode the entries of the array under key of a reply's map into *ep
 * (owned, *np of them, to free with dict_entries_free() whatever the
 * outcome) and their views into *vp; -1 with ctx's error, broken when
 * the array is missing or holds something that is no entry.
 */
static int
dict_entries(annals_ctx *ctx, const char *method, const msgpack_object *map,
    const char *key, struct dict_entry **ep, struct annals_dict_entry **vp,
    uint32_t *np)
{
	const msgpack_object	*list = mp_get(map, key);
	struct dict_entry	*e;
	struct annals_dict_entry *v;
	struct aerr		 err;
	uint32_t		 i, n;

	*ep = NULL;
	*vp = NULL;
	*np = 0;
	if (list == NULL || list->type != MSGPACK_OBJECT_ARRAY) {
		annals_break(ctx, ANNALS_EPROTOCOL, "%s: result: no %s",
		    method, key);
		return (-1);
	}
	n = list->via.array.size;
	*ep = e = calloc(n + 1, sizeof *e);
	*vp = v = calloc(n + 1, sizeof *v);
	if (e == NULL || v == NULL) {
		annals_fail(ctx, ANNALS_ENOMEM, "out of memory");
		return (-1);
	}
	*np = n;
	for (i = 0; i < n; i++) {
		if (dict_decode(&list->via.array.ptr[i], &e[i], &err) != 0) {
			annals_break(ctx, ANNALS_EPROTOCOL, "%s: result: "
			    "entry %u: %s", method, i, err.msg);
			return (-1);
		}
		dict_view(&e[i], &v[i]);
	}
	return (0);
}

static void
dict_entries_free(struct dict_entry *e, size_t n)
{
	size_t	i;

	for (i = 0; e != NULL && i < n; i++)
		dict_clear(&e[i]);
	free(e);
}

int
annals_actor_info(annals_ctx *ctx, const char *code,
    void (*fn)(const struct annals_actor_info *, void *), void *arg)
{
	struct annals_actor_info info;
	struct annals_dict_entry *views = NULL;
	struct dict_entry	*entries = NULL;
	struct annals_reply	 r;
	const msgpack_object	*map;
	msgpack_packer		*pk;
	char			*s[5] = { NULL, NULL, NULL, NULL, NULL };
	uint32_t		 msgid, n = 0, i;
	int			 rc = -1;

	if (annals_enter(ctx) == -1)
		return (-1);
	if (code == NULL || *code == '\0') {
		annals_fail(ctx, ANNALS_EINVALID, "code: required");
		return (-1);
	}
	pk = annals_request(ctx, "dict_get", &msgid);
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 1);
	mp_pack_kv_str(pk, "code", code);
	if (annals_roundtrip(ctx, msgid, &r) == -1 ||
	    (map = annals_result_map(ctx, &r, "dict_get")) == NULL)
		return (-1);
	if (dict_entries(ctx, "dict_get", map, "aliases", &entries, &views,
	    &n) != 0)
		goto out;
	for (i = 0; i < 5; i++) {
		static const char *const keys[] = { "code", "label",
		    "label_from", "cameo", "imported" };

		if (dict_str(ctx, mp_get(map, keys[i]), keys[i], &s[i]) != 0)
			goto out;
	}
	if (s[0] == NULL || s[2] == NULL) {
		annals_break(ctx, ANNALS_EPROTOCOL, "dict_get: result: no "
		    "code or label_from");
		goto out;
	}
	info.code = s[0];
	info.label = s[1];
	info.label_from = s[2];
	info.cameo = s[3];
	info.aliases = views;
	info.naliases = n;
	info.imported = s[4];
	fn(&info, arg);
	rc = 0;
out:
	for (i = 0; i < 5; i++)
		free(s[i]);
	dict_entries_free(entries, n);
	free(views);
	annals_reply_free(&r);
	return (rc);
}

int
annals_dict_list(annals_ctx *ctx, int kind, const char *prefix,
    const char *code, int (*fn)(const struct annals_dict_entry *, void *),
    void *arg)
{
	struct annals_dict_entry *views;
	struct dict_entry	*entries;
	struct annals_reply	 r;
	const msgpack_object	*map;
	msgpack_packer		*pk;
	char			*cursor = NULL;
	uint32_t		 msgid, n, i;
	int			 stop = 0, rc;

	if (kind != ANNALS_DICT_NAME && kind != ANNALS_DICT_ALIAS) {
		if (annals_enter(ctx) == 0)
			annals_fail(ctx, ANNALS_EINVALID, "kind: "
			    "ANNALS_DICT_NAME or ANNALS_DICT_ALIAS");
		return (-1);
	}
	if (prefix != NULL && *prefix == '\0')
		prefix = NULL;
	do {
		if (annals_enter(ctx) == -1)
			goto fail;
		pk = annals_request(ctx, "dict_list", &msgid);
		msgpack_pack_array(pk, 1);
		msgpack_pack_map(pk, 1 + (prefix != NULL) + (code != NULL) +
		    (cursor != NULL));
		mp_pack_kv_str(pk, "kind", kind == ANNALS_DICT_NAME ? "name" :
		    "alias");
		if (prefix != NULL)
			mp_pack_kv_str(pk, "prefix", prefix);
		if (code != NULL)
			mp_pack_kv_str(pk, "code", code);
		if (cursor != NULL)
			mp_pack_kv_str(pk, "cursor", cursor);
		free(cursor);
		cursor = NULL;
		if (annals_roundtrip(ctx, msgid, &r) == -1 ||
		    (map = annals_result_map(ctx, &r, "dict_list")) == NULL)
			goto fail;
		rc = dict_entries(ctx, "dict_list", map, "entries", &entries,
		    &views, &n);
		for (i = 0; rc == 0 && i < n && !stop; i++)
			stop = fn(&views[i], arg) != 0;
		if (rc == 0 && !stop && dict_str(ctx, mp_get(map, "cursor"),
		    "cursor", &cursor) != 0)
			rc = -1;
		dict_entries_free(entries, n);
		free(views);
		annals_reply_free(&r);
		if (rc != 0)
			goto fail;
	} while (cursor != NULL && !stop);
	return (0);
fail:
	free(cursor);
	return (-1);
}
