/*
 * annals import: the names rows carry beside their actor codes (GDELT's
 * Actor1Name beside Actor1Code) into the actor dictionary.
 *
 * Each code is kept once per run, with the first name a row gives it,
 * and sent with the others in one dict_put of up to DICT_MAX_ENTRIES
 * entries, with only_new: a code that already has a name (a user's, or
 * one an earlier import gave) keeps it.  So importing a file again
 * writes nothing, and the change feed gets no new entries.  The names
 * go marked imported: they are spelled as the feed spells them
 * ("UNITED STATES"), so the daemon shows one only for a code CAMEO
 * gives no name.  ACLED and ICEWS rows name their actors without codes:
 * nothing to pair.
 */
#include <stdlib.h>
#include <string.h>

#include "annals.h"
#include "import.h"

/* The code and name columns that go together. */
static const enum import_role import_names_pairs[][2] = {
	{ IMPORT_R_ACTOR1, IMPORT_R_ACTOR1NAME },
	{ IMPORT_R_ACTOR2, IMPORT_R_ACTOR2NAME },
};

/*
 * Every code seen in the run (open addressing over an array of cap
 * slots, NULL: empty), and those not sent yet in pending order: each
 * slot holds "code\0name".
 */
struct import_names {
	char		**slots;
	size_t		  cap, n;
	char		**pending;
	size_t		  npending;
};

struct import_names *
import_names_new(void)
{
	return (calloc(1, sizeof (struct import_names)));
}

void
import_names_free(struct import_names *nm)
{
	size_t	i;

	if (nm == NULL)
		return;
	for (i = 0; i < nm->cap; i++)
		free(nm->slots[i]);
	free(nm->slots);
	free(nm->pending);
	free(nm);
}

static size_t
import_names_hash(const char *s)
{
	size_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return (h);
}

/* The slot of code, or the empty one where it would go. */
static char **
import_names_slot(char **slots, size_t cap, const char *code)
{
	size_t	i = import_names_hash(code) & (cap - 1);

	while (slots[i] != NULL && strcmp(slots[i], code) != 0)
		i = (i + 1) & (cap - 1);
	return (&slots[i]);
}

static int
import_names_grow(struct import_names *nm)
{
	char	**slots, **p;
	size_t	  cap = nm->cap == 0 ? 256 : nm->cap * 2, i;

	if ((slots = calloc(cap, sizeof *slots)) == NULL)
		return (-1);
	if ((p = reallocarray(nm->pending, cap / 2, sizeof *p)) == NULL) {
		free(slots);
		return (-1);
	}
	nm->pending = p;
	for (i = 0; i < nm->cap; i++) {
		if (nm->slots[i] != NULL)
			*import_names_slot(slots, cap, nm->slots[i]) =
			    nm->slots[i];
	}
	free(nm->slots);
	nm->slots = slots;
	nm->cap = cap;
	return (0);
}

/*
 * Note the names of a parsed row's codes, those the dictionary would
 * take (a pair it would refuse is left out, not the row).  Returns -1
 * when out of memory.
 */
int
import_names_row(struct import_names *nm, const struct import_header *h,
    const char *const *f)
{
	struct aerr	 err;
	const char	*code, *name;
	char		**slot;
	size_t		 i, clen, nlen;

	for (i = 0; i < sizeof import_names_pairs /
	    sizeof import_names_pairs[0]; i++) {
		code = import_row_value(h, f, import_names_pairs[i][0]);
		name = import_row_value(h, f, import_names_pairs[i][1]);
		if (code == NULL || name == NULL)
			continue;
		clen = strlen(code);
		nlen = strlen(name);
		if (dict_check_key(DICT_NAME, code, clen, &err) != 0 ||
		    dict_check_name(name, nlen, &err) != 0)
			continue;
		if (nm->n + 1 > nm->cap / 2 && import_names_grow(nm) != 0)
			return (-1);
		slot = import_names_slot(nm->slots, nm->cap, code);
		if (*slot != NULL)
			continue;
		if ((*slot = malloc(clen + nlen + 2)) == NULL)
			return (-1);
		memcpy(*slot, code, clen + 1);
		memcpy(*slot + clen + 1, name, nlen + 1);
		nm->pending[nm->npending++] = *slot;
		nm->n++;
	}
	return (0);
}

/* How many codes wait to be sent. */
size_t
import_names_pending(const struct import_names *nm)
{
	return (nm->npending);
}

/*
 * Send the waiting names in dict_puts of up to DICT_MAX_ENTRIES, only
 * where the dictionary has none; *added counts those it took.  No put
 * may be in flight on ctx.  Returns 0, -1 with the error on ctx, or -2
 * when out of memory.
 */
int
import_names_send(struct import_names *nm, annals_ctx *ctx, uint64_t *added)
{
	struct annals_dict_entry *e;
	const char		*code;
	size_t			 i, n, off = 0;
	int			*st, rc = 0;

	n = nm->npending < DICT_MAX_ENTRIES ? nm->npending : DICT_MAX_ENTRIES;
	e = calloc(n + 1, sizeof *e);
	st = calloc(n + 1, sizeof *st);
	if (e == NULL || st == NULL) {
		free(e);
		free(st);
		return (-2);
	}
	while (off < nm->npending && rc == 0) {
		n = nm->npending - off;
		if (n > DICT_MAX_ENTRIES)
			n = DICT_MAX_ENTRIES;
		for (i = 0; i < n; i++) {
			code = nm->pending[off + i];
			e[i].kind = ANNALS_DICT_NAME;
			e[i].key = code;
			e[i].name = code + strlen(code) + 1;
			e[i].imported = 1;
		}
		if ((rc = annals_dict_put(ctx, e, n, 1, st)) != 0)
			break;
		for (i = 0; i < n; i++)
			*added += st[i] == ANNALS_ADDED;
		off += n;
	}
	free(e);
	free(st);
	memmove(nm->pending, nm->pending + off,
	    (nm->npending - off) * sizeof *nm->pending);
	nm->npending -= off;
	return (rc);
}
