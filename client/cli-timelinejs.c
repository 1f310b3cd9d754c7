/*
 * Events as a TimelineJS document (annals export --format timelinejs):
 * {"events": [{"unique_id", "start_date", "end_date", "text", "group"}]},
 * the same shape annalsd's /v1/timelinejs gives.  Dates become the
 * parts TimelineJS wants, as many as the event's precision has, with the
 * EDTF text as display_date so that "2015-01?" still reads as written.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../proto/proto.h"

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

/* HTML's special characters escaped: TimelineJS renders text as HTML. */
static json_t *
timelinejs_text(const char *s)
{
	json_t	*j;
	char	*buf, *p;

	if ((buf = malloc(strlen(s) * 5 + 1)) == NULL)
		return (NULL);
	for (p = buf; *s != '\0'; s++) {
		if (*s == '<')
			p = stpcpy(p, "&lt;");
		else if (*s == '>')
			p = stpcpy(p, "&gt;");
		else if (*s == '&')
			p = stpcpy(p, "&amp;");
		else
			*p++ = *s;
	}
	*p = '\0';
	j = json_string(buf);
	free(buf);
	return (j);
}

static json_t *
timelinejs_date(int64_t t, int prec, const char *display, size_t dlen)
{
	json_t		*d = json_object();
	int64_t		 days, secs, y;
	unsigned	 m, dd;

	days = t / 86400 - (t % 86400 < 0);
	secs = t - days * 86400;
	date_civil_from_days(days, &y, &m, &dd);
	json_object_set_new(d, "year", json_integer(y));
	if (prec >= DATE_PREC_SEASON)
		json_object_set_new(d, "month", json_integer(m));
	if (prec >= DATE_PREC_DAY)
		json_object_set_new(d, "day", json_integer(dd));
	if (prec >= DATE_PREC_TIME) {
		json_object_set_new(d, "hour", json_integer(secs / 3600));
		json_object_set_new(d, "minute", json_integer(secs / 60 % 60));
		json_object_set_new(d, "second", json_integer(secs % 60));
	}
	if (dlen > 0)
		json_object_set_new(d, "display_date",
		    json_stringn(display, dlen));
	return (d);
}

int
timelinejs_event(struct timelinejs *t, const struct annals_event *ev)
{
	struct date_span	 s;
	struct aerr		 err;
	const char		*slash, *end = NULL;
	json_t			*o, *text;
	char			 id[48], *line;
	int64_t			 lo;

	if (date_event_span(ev->start, ev->end, &s, &err) != 0) {
		cli_common_warn("event %llu: %s", (unsigned long long)ev->id,
		    err.msg);
		return (-1);
	}
	/* An open start ("../2015") has no first day: show its end. */
	lo = s.lo != DATE_NEG_INF ? s.lo : s.hi != DATE_POS_INF ? s.hi : 0;
	slash = strchr(ev->start, '/');
	o = json_object();
	snprintf(id, sizeof id, "annals-%llu", (unsigned long long)ev->id);
	json_object_set_new(o, "unique_id", json_string(id));
	json_object_set_new(o, "start_date", timelinejs_date(lo, s.prec,
	    ev->start, slash != NULL ? (size_t)(slash - ev->start) :
	    strlen(ev->start)));
	if (ev->end != NULL)
		end = ev->end;
	else if (slash != NULL)
		end = slash + 1;
	if (end != NULL && s.hi != DATE_POS_INF)
		json_object_set_new(o, "end_date", timelinejs_date(s.hi,
		    s.prec, end, strlen(end)));
	text = json_object();
	snprintf(id, sizeof id, "event %llu", (unsigned long long)ev->id);
	json_object_set_new(text, "headline", timelinejs_text(ev->title != NULL ?
	    ev->title : id));
	if (ev->text != NULL)
		json_object_set_new(text, "text", timelinejs_text(ev->text));
	json_object_set_new(o, "text", text);
	if (ev->type != NULL)
		json_object_set_new(o, "group", json_string(ev->type));
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (line == NULL) {
		cli_common_warn("out of memory");
		return (-1);
	}
	fprintf(t->fp, "%s\n%s", t->n++ ? "," : "", line);
	free(line);
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
