/*
 * The name CAMEO gives an actor code, for codes no user has named.  A
 * CAMEO code is a run of three-letter parts: a country or region, or an
 * actor type standing first (IGO, NGO, REB...), then actor types that
 * narrow it.  The name is the first part's label, then a colon and the
 * other labels, lower-cased, joined by commas:
 *
 *	SYR		Syria
 *	SYRGOV		Syria: government
 *	USAMILGOV	United States: military, government
 *	IGOUNO		Inter-Governmental Organization: United Nations
 *
 * The types that name one organisation (Amnesty International, Red
 * Cross, Greenpeace, United Nations) keep their capitals.  A code with a
 * part in neither table (a known group, an ethnic or religion code, a
 * lower-case code) gets no name: half a name would read as a whole one.
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

/*
 * Compose the name of code (len bytes) into buf.  Returns 1 when the
 * code has one, 0 when not (or when it does not fit size).
 */
int
cameo_name(const char *code, size_t len, char *buf, size_t size)
{
	const char	*label;
	size_t		 i, j, out = 0;

	if (size == 0)
		return (0);
	buf[0] = '\0';
	if (len == 0 || len % 3 != 0 || len / 3 > CAMEO_MAX_PARTS)
		return (0);
	for (i = 0; i < len; i++) {
		if (code[i] < 'A' || code[i] > 'Z')
			return (0);
	}
	for (i = 0; i < len; i += 3) {
		label = NULL;
		if (i == 0)
			label = cameo_label(cameo_country, cameo_ncountry,
			    code);
		if (label == NULL)
			label = cameo_label(cameo_type, cameo_ntype,
			    code + i);
		if (label == NULL)
			break;
		j = i == 0 ? 0 : cameo_append(buf, size, &out,
		    i == 3 ? ": " : ", ", 0);
		if (j != 0 || cameo_append(buf, size, &out, label,
		    i > 0 && !cameo_proper(code + i)) != 0)
			break;
	}
	if (i < len) {
		buf[0] = '\0';
		return (0);
	}
	return (1);
}
