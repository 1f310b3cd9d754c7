/*
 * The name CAMEO gives an actor code, for codes no user has named.  A
 * CAMEO code, as GDELT writes it, is a run of three-letter parts, each
 * from one of GDELT's tables (daemon/cameo/): a country or region, an
 * actor type, a known group, a religion or, in lower case, an ethnic
 * group.  The name is the first part's label, then a colon and the
 * other labels, joined by commas:
 *
 *	SYR		Syria
 *	SYRGOV		Syria: government
 *	USAMILGOV	United States: military, government
 *	IGOUNO		Inter-Governmental Organization: United Nations
 *	AFGINSTAL	Afghanistan: insurgents, Taliban
 *	MOSSHICVL	Muslim: Shia, civilian
 *	kurSEP		Kurd: separatist rebels
 *
 * A type after the first part is lower-cased, as a word describing the
 * actor, but for the types that name one organisation (Amnesty
 * International, Red Cross, Greenpeace, United Nations); the labels of
 * the other tables are names and keep their capitals.  The first part
 * is looked up among countries first and every other part among types
 * first, so that a code named from those two tables alone keeps its
 * name; then each in turn among known groups, religions, countries and
 * ethnic groups.  The order only matters for the few codes in two
 * tables: SHN is Saint Helena first and the Old Shinto School after,
 * PSE the Palestinian territory either way.  A code with a part in no
 * table (an unknown or malformed code) gets no name: half a name would
 * read as a whole one.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cameo.h"

static int
cameo_cmp(const void *key, const void *elem)
{
	const struct cameo_code	*c = elem;

	return (memcmp(key, c->code, 3));
}

/* The label of a three-letter code in a table, or NULL. */
const char *
cameo_label(const struct cameo_code *table, size_t n, const char *part)
{
	const struct cameo_code	*c;

	c = bsearch(part, table, n, sizeof *table, cameo_cmp);
	return (c != NULL ? c->label : NULL);
}

static int
cameo_proper(const char *part)
{
	static const char *const named[] = { "AMN", "IRC", "GRP", "UNO" };
	size_t			 i;

	for (i = 0; i < sizeof named / sizeof named[0]; i++) {
		if (memcmp(part, named[i], 3) == 0)
			return (1);
	}
	return (0);
}

/* Append s to buf (lower-cased with lower); 0, or -1 when it is full. */
static int
cameo_append(char *buf, size_t size, size_t *len, const char *s, int lower)
{
	size_t	n = strlen(s), i;

	if (*len + n + 1 > size)
		return (-1);
	for (i = 0; i < n; i++)
		buf[*len + i] = lower ? (char)tolower((unsigned char)s[i]) :
		    s[i];
	*len += n;
	buf[*len] = '\0';
	return (0);
}

/* A table a part is looked up in. */
struct cameo_table {
	const struct cameo_code	*codes;
	const size_t		*n;
	int			 type;	/* lower-cased after the first part */
};

#define CAMEO_TABLE(name, istype)	{ cameo_##name, &cameo_n##name, istype }

/* The tables the first part is looked up in, in turn ... */
static const struct cameo_table cameo_first[] = {
	CAMEO_TABLE(country, 0),
	CAMEO_TABLE(type, 1),
	CAMEO_TABLE(knowngroup, 0),
	CAMEO_TABLE(religion, 0),
	CAMEO_TABLE(ethnic, 0),
};

/* ... and those of every other part. */
static const struct cameo_table cameo_later[] = {
	CAMEO_TABLE(type, 1),
	CAMEO_TABLE(knowngroup, 0),
	CAMEO_TABLE(religion, 0),
	CAMEO_TABLE(country, 0),
	CAMEO_TABLE(ethnic, 0),
};

/*
 * The label of a three-letter part, the first part of a code or not, or
 * NULL; *type is set when it is a type's.
 */
static const char *
cameo_part(const char *part, int first, int *type)
{
	const struct cameo_table	*t = first ? cameo_first : cameo_later;
	size_t				 n, i;
	const char			*label;

	n = first ? sizeof cameo_first / sizeof cameo_first[0] :
	    sizeof cameo_later / sizeof cameo_later[0];
	for (i = 0; i < n; i++) {
		label = cameo_label(t[i].codes, *t[i].n, part);
		if (label != NULL) {
			*type = t[i].type;
			return (label);
		}
	}
	return (NULL);
}

/*
 * Compose the name of code (len bytes) into buf.  Returns 1 when the
 * code has one, 0 when not (or when it does not fit size).
 */
int
cameo_name(const char *code, size_t len, char *buf, size_t size)
{
	const char	*label;
	size_t		 i, out = 0;
	int		 type, lower;

	if (size == 0)
		return (0);
	buf[0] = '\0';
	if (len == 0 || len % 3 != 0 || len / 3 > CAMEO_MAX_PARTS)
		return (0);
	for (i = 0; i < len; i++) {
		if ((code[i] < 'A' || code[i] > 'Z') &&
		    (code[i] < 'a' || code[i] > 'z'))
			return (0);
	}
	for (i = 0; i < len; i += 3) {
		if ((label = cameo_part(code + i, i == 0, &type)) == NULL)
			break;
		lower = i > 0 && type && !cameo_proper(code + i);
		if (i > 0 && cameo_append(buf, size, &out,
		    i == 3 ? ": " : ", ", 0) != 0)
			break;
		if (cameo_append(buf, size, &out, label, lower) != 0)
			break;
	}
	if (i < len) {
		buf[0] = '\0';
		return (0);
	}
	return (1);
}
