/*
 * Events as a TimelineJS document (annals export --format timelinejs), a
 * slide a line, each written by proto/timelinejs.c as annalsd's
 * /v1/timelinejs writes it.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct timelinejs {
	FILE	*fp;
	size_t	 n;
};

struct timelinejs *
timelinejs_new(FILE *fp)
{
	struct timelinejs	*t;

	if ((t = calloc(1, sizeof *t)) == NULL)
		return (NULL);
	t->fp = fp;
	fputs("{\"events\":[", fp);
	return (t);
}

static void
timelinejs_write(void *arg, const void *buf, size_t len)
{
	fwrite(buf, 1, len, arg);
}

int
timelinejs_event(struct timelinejs *t, const struct annals_event *ev)
{
	const struct json_out	 out = { timelinejs_write, t->fp };
	struct date_span	 s;
	struct aerr		 err;

	if (date_event_span(ev->start, ev->end, &s, &err) != 0) {
		cli_common_warn("event %llu: %s", (unsigned long long)ev->id,
		    err.msg);
		return (-1);
	}
	fputs(t->n++ ? ",\n" : "\n", t->fp);
	if (timelinejs_slide(&out, ev->id, ev->start, ev->end, &s, ev->title,
	    ev->text, ev->type) != 0) {
		cli_common_warn("out of memory");
		return (-1);
	}
	return (ferror(t->fp) ? -1 : 0);
}

/* Close the document and free t; -1 if the stream failed. */
int
timelinejs_end(struct timelinejs *t)
{
	int	rc;

	if (t == NULL)
		return (0);
	fputs("\n]}\n", t->fp);
	rc = ferror(t->fp) ? -1 : 0;
	free(t);
	return (rc);
}
