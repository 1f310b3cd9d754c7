/*
 * What the harnesses of the import row parsers share: the input cut as
 * client/import.c cuts a file (a header line first when the format has
 * one, then one record, which for quoted CSV may run over several
 * physical lines), split with import_split_feed(), the header built with
 * import_header_init() and the row given to the format's parser.
 *
 * Promises checked: a parsed row is an event the daemon accepts as it is
 * (fuzz_check_event()), so an import never sends what will be refused;
 * a refused row or header leaves a cleared event and an error fit for
 * the wire whenever the input was UTF-8.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "../../client/import.h"
#include "fuzz.h"

const struct import_opts fuzz_import_opts = { NULL, 1 };

/*
 * A parsed row r (what the parser returned) is an event the daemon
 * accepts, and one keyed by its content has a key of 16 hex digits.
 */
void
fuzz_check_import(const struct event *ev, int r)
{
	fuzz_check_event(ev);
	FUZZ_CHECK(r == 0 || r == IMPORT_ROW_CONTENT);
	if (r == IMPORT_ROW_CONTENT)
		FUZZ_CHECK(strlen(ev->key) == IMPORT_CONTENT_KEYLEN &&
		    strncmp(ev->key, IMPORT_CONTENT_PREFIX,
		    sizeof IMPORT_CONTENT_PREFIX - 1) == 0 &&
		    strspn(ev->key + sizeof IMPORT_CONTENT_PREFIX - 1,
		    "0123456789abcdef") == 16);
}

/*
 * Split the record at the start of rec (avail bytes) into c: fed one
 * line at a time, more while a quoted field is open.  Returns its length
 * without the newline, or -1.
 */
static ssize_t
fuzz_import_split(struct import_split *c, const char *rec, size_t avail,
    struct aerr *err)
{
	const char	*line = rec, *nl;
	size_t		 len;
	int		 rc;

	for (;;) {
		nl = memchr(line, '\n', avail - (line - rec));
		len = nl == NULL ? avail - (line - rec) : (size_t)(nl - line);
		rc = import_split_feed(c, line, len, err);
		if (rc == -1)
			return (-1);
		if (rc == IMPORT_SPLIT_DONE)
			return (line + len - rec);
		FUZZ_CHECK(rc == IMPORT_SPLIT_MORE);
		FUZZ_CHECK(c->quoted && c->open);
		if (nl == NULL)
			return (-1);	/* the file ends inside quotes */
		line = nl + 1;
	}
}

void
fuzz_import(const struct import_format *format, int delim, int quoted,
    int header, const uint8_t *data, size_t size)
{
	static const struct event	 zero;
	struct import_split		 hc, rc;
	struct import_header		 h;
	struct event			 ev;
	struct aerr			 err;
	char				*in;
	const char			*row;
	size_t				 avail;
	ssize_t				 hlen;
	int				 utf8, ok;

	/* Exactly the input, so that ASan sees a read past its end. */
	if ((in = malloc(size == 0 ? 1 : size)) == NULL)
		abort();
	if (size > 0)
		memcpy(in, data, size);
	utf8 = utf8_valid(in, size);
	memset(&hc, 0, sizeof hc);
	memset(&rc, 0, sizeof rc);
	memset(&h, 0, sizeof h);
	hc.delim = rc.delim = delim;
	hc.quoted = rc.quoted = quoted;

	row = in;
	avail = size;
	if (header) {
		if ((hlen = fuzz_import_split(&hc, in, size, &err)) == -1 ||
		    (size_t)hlen == size)
			goto out;
		if (import_header_init(&h, format, hc.fields, hc.nfields,
		    &err) != 0) {
			fuzz_check_error(&err, utf8);
			goto out;
		}
		row = in + hlen + 1;
		avail = size - (size_t)hlen - 1;
	}
	if (fuzz_import_split(&rc, row, avail, &err) == -1)
		goto out;
	if (!header && import_header_init(&h, format, NULL, rc.nfields,
	    &err) != 0) {
		fuzz_check_error(&err, utf8);
		goto out;
	}

	ok = import_row(&h, rc.fields, rc.nfields, &fuzz_import_opts, &ev,
	    &err);
	if (ok == -1) {
		fuzz_check_error(&err, utf8);
		FUZZ_CHECK(memcmp(&ev, &zero, sizeof ev) == 0);
		goto out;
	}
	/* Nothing parsed may point into the row. */
	memset(rc.buf, 0xa5, rc.bufsize);
	memset(in, 0xa5, size);
	fuzz_check_import(&ev, ok);
	record_clear(&ev);
out:
	import_header_clear(&h);
	import_split_free(&hc);
	import_split_free(&rc);
	free(in);
}
