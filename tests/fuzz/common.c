/*
 * What every harness shares: failing loudly, and the promises every
 * error from proto/ keeps, since its message travels as a msgpack str.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../proto/proto.h"
#include "fuzz.h"

/* Say which promise broke, then abort: libFuzzer and the runner see it. */
void
fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: fuzz check failed: %s\n", file, line, what);
	abort();
}

/*
 * An error from a decoder has a code of the table other than internal
 * (which would mean a decoder without a case) and a non-empty message;
 * when the input was valid UTF-8 (utf8_in), so is the message, for it
 * goes on the wire as a str.
 */
void
fuzz_check_error(const struct aerr *err, int utf8_in)
{
	size_t	len;

	FUZZ_CHECK(err->code != AERR_OK && err->code != AERR_INTERNAL);
	FUZZ_CHECK(strcmp(aerr_name(err->code), "internal") != 0);
	len = strnlen(err->msg, sizeof err->msg);
	FUZZ_CHECK(len > 0 && len < sizeof err->msg);
	if (utf8_in)
		FUZZ_CHECK(utf8_valid(err->msg, len));
}

/*
 * Decode data as the daemon decodes a frame body: 0 with *u set, or -1
 * for a body that frame_check() refuses, which no decoder ever sees.  The
 * objects are views into *buf, a copy of exactly size bytes (so ASan sees
 * a read past its end): destroy u, then free *buf.
 */
int
fuzz_unpack(const uint8_t *data, size_t size, msgpack_unpacked *u,
    unsigned char **buf)
{
	struct aerr	err;

	*buf = NULL;
	msgpack_unpacked_init(u);
	if (size == 0 || frame_check(data, size, &err) != 0)
		return (-1);
	if ((*buf = malloc(size)) == NULL)
		abort();
	memcpy(*buf, data, size);
	FUZZ_CHECK(msgpack_unpack_next(u, (const char *)*buf, size, NULL) ==
	    MSGPACK_UNPACK_SUCCESS);
	return (0);
}

/* Whether s is a string a decoder may hand out: valid, at most max. */
int
fuzz_str_ok(const char *s, size_t max)
{
	size_t	len;

	if (s == NULL)
		return (0);
	len = strlen(s);
	return (len <= max && utf8_valid(s, len));
}

/* The promises of a span: strict inside fuzzy, inner inside strict. */
void
fuzz_check_span(const struct date_span *sp)
{
	FUZZ_CHECK(sp->flo <= sp->lo);
	FUZZ_CHECK(sp->lo <= sp->hi);
	FUZZ_CHECK(sp->hi <= sp->fhi);
	if (sp->ilo <= sp->ihi) {
		FUZZ_CHECK(sp->lo <= sp->ilo);
		FUZZ_CHECK(sp->ihi <= sp->hi);
	} else {
		FUZZ_CHECK(sp->ilo == DATE_POS_INF);
		FUZZ_CHECK(sp->ihi == DATE_NEG_INF);
	}
	FUZZ_CHECK(sp->prec >= DATE_PREC_NONE && sp->prec <= DATE_PREC_TIME);
	/* A span lies within itself. */
	FUZZ_CHECK(date_match(sp, sp->lo, sp->hi) == DATE_MATCH_CERTAIN);
}

/* Whether two spans are the same, field by field (not their padding). */
int
fuzz_span_eq(const struct date_span *a, const struct date_span *b)
{
	return (a->lo == b->lo && a->hi == b->hi && a->flo == b->flo &&
	    a->fhi == b->fhi && a->ilo == b->ilo && a->ihi == b->ihi &&
	    a->prec == b->prec);
}

/* Pack ev into sb, which the caller destroys. */
static void
fuzz_event_pack(const struct event *ev, msgpack_sbuffer *sb)
{
	msgpack_packer	pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	record_pack(&pk, ev);
}

/*
 * The promises of a decoded event: within every EVENT_MAX_* limit, valid
 * UTF-8 only, a sound span; and what record_pack() makes of it decodes
 * again (as the daemon stores it and as a client reads it) to an event
 * that packs to the same bytes.
 */
void
fuzz_check_event(const struct event *ev)
{
	msgpack_unpacked	 u;
	msgpack_sbuffer		 sb, sb2;
	struct event		 ev2;
	struct aerr		 err;
	unsigned char		*buf;
	uint32_t		 i;

	FUZZ_CHECK(fuzz_str_ok(ev->start, EVENT_MAX_DATE));
	FUZZ_CHECK(ev->end == NULL || fuzz_str_ok(ev->end, EVENT_MAX_DATE));
	FUZZ_CHECK((ev->source == NULL) == (ev->key == NULL));
	FUZZ_CHECK(ev->source == NULL ||
	    (fuzz_str_ok(ev->source, EVENT_MAX_SOURCE) && *ev->source));
	FUZZ_CHECK(ev->key == NULL ||
	    (fuzz_str_ok(ev->key, EVENT_MAX_KEY) && *ev->key));
	FUZZ_CHECK(ev->nactors <= EVENT_MAX_ACTORS);
	for (i = 0; i < ev->nactors; i++) {
		FUZZ_CHECK(fuzz_str_ok(ev->actors[i].name, EVENT_MAX_ACTOR));
		FUZZ_CHECK(*ev->actors[i].name != '\0');
		FUZZ_CHECK(ev->actors[i].role == NULL ||
		    (fuzz_str_ok(ev->actors[i].role, EVENT_MAX_ROLE) &&
		    *ev->actors[i].role != '\0'));
	}
	FUZZ_CHECK(ev->type == NULL || fuzz_str_ok(ev->type, EVENT_MAX_TYPE));
	FUZZ_CHECK(ev->title == NULL ||
	    fuzz_str_ok(ev->title, EVENT_MAX_TEXT));
	FUZZ_CHECK(ev->text == NULL || fuzz_str_ok(ev->text, EVENT_MAX_TEXT));
	FUZZ_CHECK(ev->nurls <= EVENT_MAX_LIST && ev->ntags <= EVENT_MAX_LIST);
	for (i = 0; i < ev->nurls; i++)
		FUZZ_CHECK(fuzz_str_ok(ev->urls[i], EVENT_MAX_TEXT));
	for (i = 0; i < ev->ntags; i++)
		FUZZ_CHECK(fuzz_str_ok(ev->tags[i], EVENT_MAX_TAG));
	if (ev->place.has_lat)
		FUZZ_CHECK(ev->place.lat >= -90 && ev->place.lat <= 90);
	if (ev->place.has_lon)
		FUZZ_CHECK(ev->place.lon >= -180 && ev->place.lon <= 180);
	FUZZ_CHECK((ev->attrs == NULL) == (ev->attrs_len == 0));
	FUZZ_CHECK(ev->attrs_len <= EVENT_MAX_ATTRS);
	fuzz_check_span(&ev->span);

	fuzz_event_pack(ev, &sb);
	FUZZ_CHECK(fuzz_unpack((const uint8_t *)sb.data, sb.size, &u,
	    &buf) == 0);
	if (record_decode(&u.data, &ev2, &err) != 0)
		fuzz_fail(__FILE__, __LINE__, err.msg);
	fuzz_event_pack(&ev2, &sb2);
	FUZZ_CHECK(sb.size == sb2.size &&
	    memcmp(sb.data, sb2.data, sb.size) == 0);
	FUZZ_CHECK(fuzz_span_eq(&ev->span, &ev2.span));
	msgpack_sbuffer_destroy(&sb);
	msgpack_sbuffer_destroy(&sb2);
	msgpack_unpacked_destroy(&u);
	free(buf);
	record_clear(&ev2);
}
