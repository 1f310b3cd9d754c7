/*
 * dict_get, dict_list: read the actor dictionary.  dict_get of a code
 * says how it is shown (the user's name, else CAMEO's, else an
 * importer's), the name an importer gave it, and which aliases stand
 * for it; dict_list pages through the entries of a kind by key.
 */
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"

#define DICT_GET_ALIASES	1000	/* aliases of a code, at most */

struct list_ctx {
	msgpack_sbuffer	 items;
	msgpack_packer	 pk;
	const char	*code;		/* only aliases of this code */
	size_t		 n;
	char		*last;		/* the key of the last one */
	struct aerr	*err;
};

static int
alias_has(const struct dict_entry *e, const char *code)
{
	uint32_t	i;

	for (i = 0; i < e->ncodes; i++) {
		if (strcmp(e->codes[i], code) == 0)
			return (1);
	}
	return (0);
}

static int
list_one(void *arg, size_t i, const void *data, size_t len)
{
	struct list_ctx		*c = arg;
	struct dict_entry	 e;

	(void)i;
	if (names_unpack(data, len, &e) != 0)
		return (1);
	if (c->code != NULL && !alias_has(&e, c->code)) {
		dict_clear(&e);
		return (1);
	}
	msgpack_sbuffer_write(&c->items, data, len);
	free(c->last);
	c->last = e.key;
	e.key = NULL;
	dict_clear(&e);
	c->n++;
	return (0);
}

static int
list_read(struct list_ctx *c, int kind, const char *prefix,
    const char *after, uint32_t limit, int *more, struct aerr *err)
{
	msgpack_sbuffer_init(&c->items);
	c->n = 0;
	c->last = NULL;
	if (store_dict_list(server->store, kind, prefix, after, limit,
	    list_one, c, more, err) != 0) {
		msgpack_sbuffer_destroy(&c->items);
		free(c->last);
		return (-1);
	}
	return (0);
}

static void
list_pack(msgpack_sbuffer *sb, msgpack_packer *pk, struct list_ctx *c)
{
	msgpack_pack_array(pk, c->n);
	msgpack_sbuffer_write(sb, c->items.data, c->items.size);
	msgpack_sbuffer_destroy(&c->items);
}

/* An optional str param of at most max bytes; NULL when absent. */
static int
opt_str(const struct request *req, const char *name, size_t max,
    char **out, struct aerr *err)
{
	const msgpack_object	*o;

	*out = NULL;
	if ((o = mp_get(req->params, name)) == NULL ||
	    o->type == MSGPACK_OBJECT_NIL)
		return (0);
	return (mp_str(o, name, max, out, err));
}

/*
 * Pack what dict_get says of a code into out (initialised), for the
 * method and for GET /v1/actors/{code}.
 */
int
dict_get_code(const char *code, msgpack_sbuffer *out, struct aerr *err)
{
	struct names_label	 l;
	struct list_ctx		 c;
	msgpack_packer		 packer, *pk = &packer;
	const char		*key = code;
	char			*cameo, *imported;
	int			 more;

	memset(&c, 0, sizeof c);
	c.code = code;
	if (names_labels(&key, 1, &l, err) != 0)
		return (-1);
	if (names_imported(code, &imported, err) != 0) {
		names_labels_free(&l, 1);
		return (-1);
	}
	if (list_read(&c, DICT_ALIAS, NULL, NULL, DICT_GET_ALIASES, &more,
	    err) != 0) {
		free(imported);
		names_labels_free(&l, 1);
		return (-1);
	}
	msgpack_packer_init(pk, out, msgpack_sbuffer_write);
	msgpack_pack_map(pk, 6);
	mp_pack_kv_str(pk, "code", code);
	mp_pack_str(pk, "label");
	if (l.label != NULL)
		mp_pack_str(pk, l.label);
	else
		msgpack_pack_nil(pk);
	mp_pack_kv_str(pk, "label_from", names_from_name(l.from));
	/* CAMEO's name even where a user's wins. */
	mp_pack_str(pk, "cameo");
	if ((cameo = names_cameo(code)) != NULL)
		mp_pack_str(pk, cameo);
	else
		msgpack_pack_nil(pk);
	free(cameo);
	/* An importer's name even where CAMEO's wins. */
	mp_pack_str(pk, "imported");
	if (imported != NULL)
		mp_pack_str(pk, imported);
	else
		msgpack_pack_nil(pk);
	free(imported);
	mp_pack_str(pk, "aliases");
	list_pack(out, pk, &c);
	free(c.last);
	names_labels_free(&l, 1);
	return (0);
}

static int
get_code(struct request *req, const char *code, struct aerr *err)
{
	msgpack_sbuffer	sb;

	msgpack_sbuffer_init(&sb);
	if (dict_get_code(code, &sb, err) != 0) {
		msgpack_sbuffer_destroy(&sb);
		return (-1);
	}
	dispatch_reply_begin(req);
	msgpack_sbuffer_write(req->sbuf, sb.data, sb.size);
	dispatch_reply_end(req);
	msgpack_sbuffer_destroy(&sb);
	return (0);
}

static int
get_alias_one(void *arg, size_t i, const void *data, size_t len)
{
	struct list_ctx	*c = arg;

	(void)i;
	if (data != NULL) {
		msgpack_sbuffer_write(&c->items, data, len);
		c->n++;
	}
	return (0);
}

static int
get_alias(struct request *req, const char *alias, struct aerr *err)
{
	struct list_ctx	 c;
	msgpack_packer	*pk;

	memset(&c, 0, sizeof c);
	msgpack_sbuffer_init(&c.items);
	if (store_dict_lookup(server->store, DICT_ALIAS, &alias, 1,
	    get_alias_one, &c, err) != 0) {
		msgpack_sbuffer_destroy(&c.items);
		return (-1);
	}
	if (c.n == 0) {
		msgpack_sbuffer_destroy(&c.items);
		aerr_set(err, AERR_NOT_FOUND, "no alias %s", alias);
		return (-1);
	}
	pk = dispatch_reply_begin(req);
	msgpack_pack_map(pk, 1);
	mp_pack_str(pk, "entry");
	msgpack_sbuffer_write(req->sbuf, c.items.data, c.items.size);
	msgpack_sbuffer_destroy(&c.items);
	dispatch_reply_end(req);
	return (0);
}

static void
method_dict_get_exec(struct request *req)
{
	static const char *const params[] = { "code", "alias", NULL };
	struct aerr	 err;
	char		*code = NULL, *alias = NULL;

	if (dispatch_check_params(req, params, &err) != 0 ||
	    opt_str(req, "code", EVENT_MAX_ACTOR, &code, &err) != 0 ||
	    opt_str(req, "alias", DICT_MAX_ALIAS, &alias, &err) != 0)
		goto fail;
	if ((code == NULL) == (alias == NULL)) {
		aerr_set(&err, AERR_INVALID, "give code or alias, one of them");
		goto fail;
	}
	if ((code != NULL ? get_code(req, code, &err) :
	    get_alias(req, alias, &err)) != 0)
		goto fail;
	goto out;
fail:
	dispatch_error(req, &err);
out:
	free(code);
	free(alias);
}

static void
method_dict_list_exec(struct request *req)
{
	static const char *const params[] = { "kind", "prefix", "code",
	    "limit", "cursor", NULL };
	const msgpack_object	*o;
	struct list_ctx		 c;
	msgpack_packer		*pk;
	struct aerr		 err;
	char			*prefix = NULL, *code = NULL, *after = NULL;
	uint32_t		 limit;
	int			 kind, more;

	memset(&c, 0, sizeof c);
	if (dispatch_check_params(req, params, &err) != 0)
		goto fail;
	o = mp_get(req->params, "kind");
	if (o == NULL || o->type != MSGPACK_OBJECT_STR ||
	    (kind = dict_kind_parse(o->via.str.ptr, o->via.str.size)) == 0) {
		aerr_set(&err, AERR_INVALID, "kind: required, \"name\" or "
		    "\"alias\"");
		goto fail;
	}
	if (opt_str(req, "prefix", DICT_MAX_NAME, &prefix, &err) != 0 ||
	    opt_str(req, "code", EVENT_MAX_ACTOR, &code, &err) != 0 ||
	    opt_str(req, "cursor", DICT_MAX_NAME, &after, &err) != 0)
		goto fail;
	if (code != NULL && kind != DICT_ALIAS) {
		aerr_set(&err, AERR_INVALID, "code: only with kind alias");
		goto fail;
	}
	if (dispatch_page_limit(req, &limit, &err) != 0)
		goto fail;
	c.code = code;
	if (list_read(&c, kind, prefix, after, limit, &more,
	    &err) != 0)
		goto fail;
	pk = dispatch_reply_begin(req);
	msgpack_pack_map(pk, 2);
	mp_pack_str(pk, "entries");
	list_pack(req->sbuf, pk, &c);
	mp_pack_str(pk, "cursor");
	if (more && c.last != NULL)
		mp_pack_str(pk, c.last);
	else
		msgpack_pack_nil(pk);
	dispatch_reply_end(req);
	free(c.last);
	goto out;
fail:
	dispatch_error(req, &err);
out:
	free(prefix);
	free(code);
	free(after);
}

const struct method method_dict_get = { "dict_get", METHOD_READER,
    method_dict_get_exec, NULL };
const struct method method_dict_list = { "dict_list", METHOD_READER,
    method_dict_list_exec, NULL };
