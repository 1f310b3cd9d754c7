/*
 * What the methods ask of the actor dictionary: the label an actor code
 * is shown with (the name a user gave it, else the one CAMEO composes,
 * else the one an importer took from raw rows), and the alias an actor
 * query may name.  An importer's name ranks below CAMEO's because it is
 * whatever a feed's rows spelled ("UNITED STATES"), where CAMEO's is
 * written for reading.
 */
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"
#include "cameo.h"

/* Unpack a stored entry into e (owned copies). */
int
names_unpack(const void *data, size_t len, struct dict_entry *e)
{
	msgpack_unpacked	 u;
	struct aerr		 err;
	int			 rc = -1;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, data, len, NULL) == MSGPACK_UNPACK_SUCCESS)
		rc = dict_decode(&u.data, e, &err);
	msgpack_unpacked_destroy(&u);
	return (rc);
}

static int
names_alias_one(void *arg, size_t i, const void *data, size_t len)
{
	struct dict_entry	*e = arg;

	(void)i;
	if (data != NULL && names_unpack(data, len, e) != 0)
		log_err("dictionary entry damaged");
	return (0);
}

/*
 * Make an actor query by an alias when its actor names one (not a
 * prefix, not with "alias": false).  Returns 0 (q changed or not) or -1
 * with err set.
 */
int
names_resolve(struct query *q, struct aerr *err)
{
	struct dict_entry	e;
	const char		*key;

	if (q->actor == NULL || q->actor_prefix || q->no_alias)
		return (0);
	memset(&e, 0, sizeof e);
	key = q->actor;
	if (store_dict_lookup(server->store, DICT_ALIAS, &key, 1,
	    names_alias_one, &e, err) != 0)
		return (-1);
	if (e.kind != DICT_ALIAS)
		return (0);
	if (query_set_alias(q, &e) != 0) {
		dict_clear(&e);
		aerr_set(err, AERR_NOMEM, "out of memory");
		return (-1);
	}
	dict_clear(&e);
	return (0);
}

struct label_ctx {
	struct names_label	*out;
};

static int
names_label_one(void *arg, size_t i, const void *data, size_t len)
{
	struct label_ctx	*c = arg;
	struct dict_entry	 e;

	if (data == NULL || names_unpack(data, len, &e) != 0)
		return (0);
	c->out[i].label = e.name;
	c->out[i].from = e.imported ? NAMES_IMPORT : NAMES_USER;
	e.name = NULL;
	dict_clear(&e);
	return (0);
}

/*
 * The labels of n codes: out[i] gets the user's name for codes[i], else
 * CAMEO's, else an importer's, else none (from NAMES_NONE).  Free with
 * names_labels_free().
 */
int
names_labels(const char *const *codes, size_t n, struct names_label *out,
    struct aerr *err)
{
	struct label_ctx	c = { out };
	char			*cameo;
	size_t			i;

	memset(out, 0, n * sizeof *out);
	if (store_dict_lookup(server->store, DICT_NAME, codes, n,
	    names_label_one, &c, err) != 0) {
		names_labels_free(out, n);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (out[i].from == NAMES_USER ||
		    (cameo = names_cameo(codes[i])) == NULL)
			continue;
		free(out[i].label);
		out[i].label = cameo;
		out[i].from = NAMES_CAMEO;
	}
	return (0);
}

static int
names_imported_one(void *arg, size_t i, const void *data, size_t len)
{
	char			**out = arg;
	struct dict_entry	  e;

	(void)i;
	if (data == NULL || names_unpack(data, len, &e) != 0)
		return (0);
	if (e.imported) {
		*out = e.name;
		e.name = NULL;
	}
	dict_clear(&e);
	return (0);
}

/*
 * The name an importer gave code, into *out (owned by the caller), or
 * NULL when its name is a user's or it has none: dict_get tells it even
 * where CAMEO's outranks it, so that the feed's spelling can be seen.
 */
int
names_imported(const char *code, char **out, struct aerr *err)
{
	*out = NULL;
	return (store_dict_lookup(server->store, DICT_NAME, &code, 1,
	    names_imported_one, out, err));
}

/* CAMEO's name for a code, owned by the caller, or NULL. */
char *
names_cameo(const char *code)
{
	char	buf[CAMEO_MAX_NAME];

	if (!cameo_name(code, strlen(code), buf, sizeof buf))
		return (NULL);
	return (xstrdup(buf));
}

void
names_labels_free(struct names_label *l, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(l[i].label);
}

const char *
names_from_name(int from)
{
	switch (from) {
	case NAMES_USER:
		return ("user");
	case NAMES_CAMEO:
		return ("cameo");
	case NAMES_IMPORT:
		return ("import");
	default:
		return ("none");
	}
}

/* Pack "label" and "label_from" for a label, when there is one. */
void
names_pack_label(msgpack_packer *pk, const struct names_label *l)
{
	if (l->label == NULL)
		return;
	mp_pack_kv_str(pk, "label", l->label);
	mp_pack_kv_str(pk, "label_from", names_from_name(l->from));
}
