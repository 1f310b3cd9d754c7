/*
 * Splitting records of delimited text into fields, one physical line at
 * a time.
 *
 * With quoting on, this is RFC 4180: a field that starts with '"' runs to
 * the next '"' not doubled, "" inside it stands for one '"', and it may
 * hold the delimiter and line breaks.  A quote anywhere else, or text
 * after a closing quote, is an error rather than a guess, so that a
 * broken row is reported instead of swallowing its neighbours.  With
 * quoting off (TSV as GDELT and ICEWS write it) the delimiter alone
 * splits and a '"' is just a character.
 *
 * A CR ending a line is part of its line break, except inside quotes,
 * where the line break, CRLF or LF, is text kept as it is ("a\r\nb" came
 * back from export --format csv as "a\nb", issue #15).
 *
 * A record whose quoted field is still open at the end of a line goes on
 * with the next line: the state (inside a quote, the fields so far) is
 * kept between calls, so every byte is looked at once however many
 * lines the record takes.  Splitting the joined record again after each
 * line made one stray quote cost time quadratic in the bytes after it
 * (issue #15).  The record, and so a quoted field, is bounded by
 * IMPORT_MAX_ROW.
 */
#include <stdlib.h>
#include <string.h>

#include "import.h"

void
import_split_free(struct import_split *c)
{
	free(c->buf);
	free(c->fields);
	free(c->starts);
	c->buf = NULL;
	c->fields = NULL;
	c->starts = NULL;
	c->bufsize = 0;
	c->maxfields = 0;
	import_split_reset(c);
}

/* Forget a record, finished or not: the next line starts a new one. */
void
import_split_reset(struct import_split *c)
{
	c->used = 0;
	c->nfields = 0;
	c->reclen = 0;
	c->lines = 0;
	c->quote_line = 0;
	c->open = 0;
}

/* Room for one more field, starting at offset off of buf. */
static int
import_split_field(struct import_split *c, size_t off, struct aerr *err)
{
	const char	**nf;
	size_t		 *ns, n;

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
		if ((ns = reallocarray(c->starts, n, sizeof *ns)) == NULL) {
			aerr_set(err, AERR_NOMEM, "out of memory");
			return (-1);
		}
		c->starts = ns;
		c->maxfields = n;
	}
	c->starts[c->nfields++] = off;
	return (0);
}

/* Room for n more bytes in buf, doubling so that a record costs O(n). */
static int
import_split_room(struct import_split *c, size_t n, struct aerr *err)
{
	char	*nb;
	size_t	 nsize;

	if (c->bufsize - c->used >= n)
		return (0);
	nsize = c->bufsize == 0 ? 4096 : c->bufsize * 2;
	if (nsize < c->used + n)
		nsize = c->used + n;
	if ((nb = realloc(c->buf, nsize)) == NULL) {
		aerr_set(err, AERR_NOMEM, "out of memory");
		return (-1);
	}
	c->buf = nb;
	c->bufsize = nsize;
	return (0);
}

int
import_split_feed(struct import_split *c, const char *line, size_t len,
    struct aerr *err)
{
	const char	*p = line, *end = line + len;
	char		*o;
	size_t		 i;
	int		 inq = c->open, cr = 0;

	if (!c->open)
		import_split_reset(c);
	c->examined += len;
	c->reclen += len + (c->open ? 1 : 0);
	c->lines++;
	if (c->reclen > IMPORT_MAX_ROW) {
		if (c->open)
			aerr_set(err, AERR_INVALID, "quoted field not closed "
			    "within %u bytes", IMPORT_MAX_ROW);
		else
			aerr_set(err, AERR_INVALID, "row of %zu bytes exceeds "
			    "limit %u", len, IMPORT_MAX_ROW);
		return (-1);
	}
	c->open = 0;
	if (memchr(line, '\0', len) != NULL) {
		aerr_set(err, AERR_INVALID, "row contains a NUL byte");
		return (-1);
	}
	if (len > 0 && line[len - 1] == '\r') {
		end--;
		cr = 1;
	}
	/*
	 * Fields lose their delimiter and gain a NUL, and a line that goes
	 * on gains its newline: len + 2 is enough.
	 */
	if (import_split_room(c, len + 2, err) != 0)
		return (-1);
	o = c->buf + c->used;
	if (inq)
		*o++ = '\n';
	for (;;) {
		if (!inq) {
			if (import_split_field(c, o - c->buf, err) != 0)
				return (-1);
			if (!c->quoted || p == end || *p != '"') {
				while (p < end && *p != c->delim) {
					if (c->quoted && *p == '"') {
						aerr_set(err, AERR_INVALID,
						    "column %zu: quote inside "
						    "an unquoted field",
						    c->nfields);
						return (-1);
					}
					*o++ = *p++;
				}
				*o++ = '\0';
				if (p == end)
					break;
				p++;	/* the delimiter */
				continue;
			}
			p++;
			c->quote_line = c->lines - 1;
		}
		/* Inside quotes, to the closing one or the end of the line. */
		for (; p < end; p++) {
			if (*p != '"')
				*o++ = *p;
			else if (p + 1 < end && p[1] == '"')
				*o++ = *++p;
			else
				break;
		}
		if (p == end) {
			if (cr)
				*o++ = '\r';
			c->used = o - c->buf;
			c->open = 1;
			return (IMPORT_SPLIT_MORE);
		}
		inq = 0;
		p++;
		if (p < end && *p != c->delim) {
			aerr_set(err, AERR_INVALID, "column %zu: text after "
			    "the closing quote", c->nfields);
			return (-1);
		}
		*o++ = '\0';
		if (p == end)
			break;
		p++;	/* the delimiter */
	}
	c->used = o - c->buf;
	for (i = 0; i < c->nfields; i++)
		c->fields[i] = c->buf + c->starts[i];
	return (IMPORT_SPLIT_DONE);
}
