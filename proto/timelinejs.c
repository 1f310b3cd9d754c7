/*
 * One event as a TimelineJS slide, for annalsd's /v1/timelinejs and for
 * annals export --format timelinejs, which give the same document:
 * {"events": [{"unique_id", "start_date", "end_date", "text", "group"}]}.
 * Dates become the parts TimelineJS wants, as many as the event's
 * precision has, with the EDTF text as display_date so that "2015-01?"
 * still reads as written.  TimelineJS renders text as HTML, so title and
 * text have HTML's special characters escaped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static void
tl_put(const struct json_out *out, const char *s)
{
	out->write(out->arg, s, strlen(s));
}

static void
tl_date(const struct json_out *out, int64_t t, int prec, const char *display,
    size_t dlen)
{
	int64_t		days, secs, y;
	unsigned	m, d;
	char		buf[96];

	days = t / 86400 - (t % 86400 < 0);
	secs = t - days * 86400;
	date_civil_from_days(days, &y, &m, &d);
	snprintf(buf, sizeof buf, "{\"year\":%" PRId64, y);
	tl_put(out, buf);
	if (prec >= DATE_PREC_SEASON) {
		snprintf(buf, sizeof buf, ",\"month\":%u", m);
		tl_put(out, buf);
	}
	if (prec >= DATE_PREC_DAY) {
		snprintf(buf, sizeof buf, ",\"day\":%u", d);
		tl_put(out, buf);
	}
	if (prec >= DATE_PREC_TIME) {
		snprintf(buf, sizeof buf, ",\"hour\":%d,\"minute\":%d,"
		    "\"second\":%d", (int)(secs / 3600), (int)(secs / 60 % 60),
		    (int)(secs % 60));
		tl_put(out, buf);
	}
	if (dlen > 0) {
		tl_put(out, ",\"display_date\":");
		json_out_str(out, display, dlen);
	}
	tl_put(out, "}");
}

/* s with < > & as HTML entities, as a JSON string; -1 out of memory. */
static int
tl_text(const struct json_out *out, const char *s)
{
	char	*buf, *p;

	if ((buf = malloc(strlen(s) * 5 + 1)) == NULL)
		return (-1);
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
	json_out_str(out, buf, (size_t)(p - buf));
	free(buf);
	return (0);
}

/*
 * Write the slide of event id, whose start and end (or NULL) span covers;
 * title, text and type may be NULL.  -1 when memory ran out.
 */
int
timelinejs_slide(const struct json_out *out, uint64_t id, const char *start,
    const char *end, const struct date_span *span, const char *title,
    const char *text, const char *type)
{
	const char	*slash = strchr(start, '/');
	char		 buf[64];
	int		 rc;

	snprintf(buf, sizeof buf, "{\"unique_id\":\"annals-%" PRIu64 "\","
	    "\"start_date\":", id);
	tl_put(out, buf);
	/* An open start ("../2015") has no first day: show its end. */
	tl_date(out, span->lo != DATE_NEG_INF ? span->lo :
	    span->hi != DATE_POS_INF ? span->hi : 0, span->prec, start,
	    slash != NULL ? (size_t)(slash - start) : strlen(start));
	if (end == NULL && slash != NULL)
		end = slash + 1;
	if (end != NULL && span->hi != DATE_POS_INF) {
		tl_put(out, ",\"end_date\":");
		tl_date(out, span->hi, span->prec, end, strlen(end));
	}
	tl_put(out, ",\"text\":{\"headline\":");
	if (title == NULL) {
		snprintf(buf, sizeof buf, "event %" PRIu64, id);
		title = buf;
	}
	rc = tl_text(out, title);
	if (rc == 0 && text != NULL) {
		tl_put(out, ",\"text\":");
		rc = tl_text(out, text);
	}
	tl_put(out, "}");
	if (type != NULL) {
		tl_put(out, ",\"group\":");
		json_out_str(out, type, strlen(type));
	}
	tl_put(out, "}");
	return (rc);
}
