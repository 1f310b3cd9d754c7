/*
 * Splitting one record of delimited text into fields.
 *
 * With quoting on, this is RFC 4180: a field that starts with '"' runs to
 * the next '"' not doubled, "" inside it stands for one '"', and it may
 * hold the delimiter and line breaks.  A quote anywhere else, or text
 * after a closing quote, is an error rather than a guess, so that a
 * broken row is reported instead of swallowing its neighbours.  With
 * quoting off (TSV as GDELT and ICEWS write it) the delimiter alone
 * splits and a '"' is just a character.
 *
 * The caller hands over a physical line; IMPORT_CSV_MORE asks for the
 * next one, to be appended after a '\n', when a quoted field is still
 * open at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "import.h"

void
import_csv_free(struct import_csv *c)
{
	free(c->buf);
	free(c->fields);
	c->buf = NULL;
	c->fields = NULL;
	c->bufsize = 0;
	c->maxfields = 0;
	c->nfields = 0;
}

/* Room for one more field. */
static int
import_csv_field(struct import_csv *c, const char *p, struct aerr *err)
{
	const char	**nf;
	size_t		  n;

	if (c->nfields == IMPORT_MAX_COLS) {
		aerr_set(err, AERR_INVALID, "more than %d columns",
		    IMPORT_MAX_COLS);
		return (-1);
	}
	if (c->nfields == c->maxfields) {
		n = c->maxfields == 0 ? 64 : c->maxfields * 2;
		if ((nf = reallocarray(c->fields, n, sizeof *nf)) == NULL) {
			aerr_set(err, AERR_NOMEM, "out of memory");
			return (-1);
		}
		c->fields = nf;
		c->maxfields = n;
	}
	c->fields[c->nfields++] = p;
	return (0);
}

int
import_csv_split(struct import_csv *c, const char *rec, size_t len,
    struct aerr *err)
{
	const char	*p = rec, *end = rec + len;
	char		*o, *nb;

	c->nfields = 0;
	if (len > IMPORT_MAX_ROW) {
		aerr_set(err, AERR_INVALID, "row of %zu bytes exceeds limit %u",
		    len, IMPORT_MAX_ROW);
		return (-1);
	}
	if (memchr(rec, '\0', len) != NULL) {
		aerr_set(err, AERR_INVALID, "row contains a NUL byte");
		return (-1);
	}
	/* Fields lose their delimiter and gain a NUL: len + 1 is enough. */
	if (c->bufsize < len + 1) {
		if ((nb = realloc(c->buf, len + 1)) == NULL) {
			aerr_set(err, AERR_NOMEM, "out of memory");
			return (-1);
		}
		c->buf = nb;
		c->bufsize = len + 1;
	}
	o = c->buf;
	for (;;) {
		if (import_csv_field(c, o, err) != 0)
			return (-1);
		if (c->quoted && p < end && *p == '"') {
			for (p++;; p++) {
				if (p == end)
					return (IMPORT_CSV_MORE);
				if (*p != '"') {
					*o++ = *p;
					continue;
				}
				if (p + 1 < end && p[1] == '"') {
					*o++ = '"';
					p++;
					continue;
				}
				break;
			}
			p++;
			if (p < end && *p != c->delim) {
				aerr_set(err, AERR_INVALID, "column %zu: text "
				    "after the closing quote", c->nfields);
				return (-1);
			}
		} else {
			while (p < end && *p != c->delim) {
				if (c->quoted && *p == '"') {
					aerr_set(err, AERR_INVALID, "column %zu: "
					    "quote inside an unquoted field",
					    c->nfields);
					return (-1);
				}
				*o++ = *p++;
			}
		}
		*o++ = '\0';
		if (p == end)
			break;
		p++;	/* the delimiter */
	}
	return (IMPORT_CSV_DONE);
}
