/*
 * What every row parser of annals import needs: headers mapped onto the
 * roles of a format, actors, coordinates, attrs, and the final check.
 *
 * attrs keep every column of a row under its column name, as the text in
 * the file, so that an export gives back every value.  Two exceptions,
 * both lossless: a column whose text a record field keeps unchanged (the
 * id in key, the event code in type, the URL in urls, ...) is left out
 * of attrs when it has a value, and a count column (NumMentions,
 * fatalities, ...) whose text is a plain decimal integer is stored as
 * that integer, which prints back as the same text.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import.h"

static int
import_row_is_int_column(const struct import_format *fmt, const char *name)
{
	const char *const	*p;

	if (fmt->ints == NULL)
		return (0);
	for (p = fmt->ints; *p != NULL; p++) {
		if (strcmp(*p, name) == 0)
			return (1);
	}
	return (0);
}

void
import_header_clear(struct import_header *h)
{
	size_t	i;

	if (h->names != NULL) {
		for (i = 0; i < h->ncols; i++)
			free(h->names[i]);
	}
	free(h->names);
	free(h->flags);
	memset(h, 0, sizeof *h);
}

/*
 * Build h for fmt from the names of a header line, or, when names is
 * NULL, from the format's fixed layout for n columns.
 */
int
import_header_init(struct import_header *h, const struct import_format *fmt,
    const char *const *names, size_t n, struct aerr *err)
{
	size_t	i, j;
	int	r;

	memset(h, 0, sizeof *h);
	for (r = 0; r < IMPORT_NROLES; r++)
		h->col[r] = -1;
	h->fmt = fmt;
	if (names == NULL) {
		if (fmt->layout == NULL) {
			aerr_set(err, AERR_INVALID, "no header line: %s is "
			    "read by column name", fmt->name);
			return (-1);
		}
		if (fmt->layout(n, &names, err) != 0)
			return (-1);
	}
	if (n == 0 || n > IMPORT_MAX_COLS) {
		aerr_set(err, AERR_INVALID, "header: %zu columns, must be 1 "
		    "to %d", n, IMPORT_MAX_COLS);
		return (-1);
	}
	if ((h->names = calloc(n, sizeof *h->names)) == NULL ||
	    (h->flags = calloc(n, 1)) == NULL)
		goto nomem;
	h->ncols = n;
	for (i = 0; i < n; i++) {
		if (names[i][0] == '\0') {
			aerr_set(err, AERR_INVALID, "header: column %zu has no "
			    "name", i + 1);
			goto fail;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(names[i], names[j]) == 0) {
				aerr_set(err, AERR_INVALID, "header: column "
				    "\"%.64s\" appears twice", names[i]);
				goto fail;
			}
		}
		if (fmt->known != NULL && !fmt->known(names[i])) {
			aerr_set(err, AERR_INVALID, "header: unknown column "
			    "\"%.64s\"", names[i]);
			goto fail;
		}
		if ((h->names[i] = strdup(names[i])) == NULL)
			goto nomem;
		if (import_row_is_int_column(fmt, names[i]))
			h->flags[i] |= IMPORT_COL_INT;
		for (r = 0; r < IMPORT_NROLES; r++) {
			if (fmt->roles[r] == NULL ||
			    strcmp(fmt->roles[r], names[i]) != 0)
				continue;
			h->col[r] = (int)i;
			if (fmt->core & IMPORT_ROLE(r))
				h->flags[i] |= IMPORT_COL_CORE;
		}
	}
	for (r = 0; r < IMPORT_NROLES; r++) {
		if ((fmt->required & IMPORT_ROLE(r)) && h->col[r] == -1) {
			aerr_set(err, AERR_INVALID, "header: no column \"%s\"",
			    fmt->roles[r]);
			goto fail;
		}
	}
	return (0);

nomem:
	aerr_set(err, AERR_NOMEM, "out of memory");
fail:
	import_row_clean(err);
	import_header_clear(h);
	return (-1);
}

/* Whether fields look like a header line of fmt: its mark column. */
int
import_header_is(const struct import_format *fmt, const char *const *f,
    size_t n)
{
	const char	*mark = fmt->roles[fmt->mark];
	size_t		 i;

	for (i = 0; mark != NULL && i < n; i++) {
		if (strcmp(f[i], mark) == 0)
			return (1);
	}
	return (0);
}

/* Whether a file name ends with suffix, ignoring case. */
int
import_name_ends(const char *name, const char *suffix)
{
	size_t	n = strlen(name), k = strlen(suffix);

	return (n >= k && strcasecmp(name + n - k, suffix) == 0);
}

/* Whether a file name contains word, ignoring case. */
int
import_name_has(const char *name, const char *word)
{
	size_t	k = strlen(word);

	for (; *name != '\0'; name++) {
		if (strncasecmp(name, word, k) == 0)
			return (1);
	}
	return (0);
}

/*
 * The row parser of h's format, with err made fit to show: a value
 * quoted in it may have been cut inside a character.
 */
int
import_row(const struct import_header *h, const char *const *f, size_t n,
    const struct import_opts *opts, struct event *ev, struct aerr *err)
{
	int	r;

	if ((r = h->fmt->row(h, f, n, opts, ev, err)) >= 0)
		return (r);
	import_row_clean(err);
	return (-1);
}

/* The value of a role's column, or NULL when it has none or is empty. */
const char *
import_row_value(const struct import_header *h, const char *const *f,
    enum import_role r)
{
	const char	*v;

	if (h->col[r] == -1)
		return (NULL);
	v = f[h->col[r]];
	if (*v == '\0')
		return (NULL);
	if (h->fmt->missing != NULL && strcmp(v, h->fmt->missing) == 0)
		return (NULL);
	return (v);
}

/* Start a row: clear ev and check the number of fields. */
int
import_row_begin(const struct import_header *h, size_t n, struct event *ev,
    struct aerr *err)
{
	memset(ev, 0, sizeof *ev);
	if (n != h->ncols) {
		aerr_set(err, AERR_INVALID, "%zu column%s, expected %zu", n,
		    n == 1 ? "" : "s", h->ncols);
		return (-1);
	}
	return (0);
}

/*
 * Make err's message valid UTF-8: a value quoted in it may be cut inside
 * a character or hold bytes that are not UTF-8.  Such bytes become '?'.
 */
void
import_row_clean(struct aerr *err)
{
	unsigned char	*p = (unsigned char *)err->msg;
	size_t		 len = strlen(err->msg), i = 0, k;

	while (i < len) {
		k = p[i] < 0x80 ? 1 : p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : 2;
		if (i + k <= len && utf8_valid((char *)p + i, k)) {
			i += k;
			continue;
		}
		p[i++] = '?';
	}
}

/* Clear a half-built event; returns -1 for the caller to return. */
int
import_row_fail(struct event *ev)
{
	record_clear(ev);
	return (-1);
}

int
import_row_str(char **out, const char *s, struct aerr *err)
{
	if ((*out = strdup(s)) == NULL) {
		aerr_set(err, AERR_NOMEM, "out of memory");
		return (-1);
	}
	return (0);
}

/* Append an actor named by len bytes of name, with a role. */
int
import_row_actor(struct event *ev, const char *name, size_t len,
    const char *role, struct aerr *err)
{
	struct actor	*a;

	if (ev->nactors == EVENT_MAX_ACTORS) {
		aerr_set(err, AERR_INVALID, "actors: more than %d",
		    EVENT_MAX_ACTORS);
		return (-1);
	}
	if (ev->nactors % 8 == 0) {
		a = reallocarray(ev->actors, ev->nactors + 8, sizeof *a);
		if (a == NULL)
			goto nomem;
		ev->actors = a;
	}
	a = &ev->actors[ev->nactors];
	memset(a, 0, sizeof *a);
	if ((a->name = strndup(name, len)) == NULL)
		goto nomem;
	if (role != NULL && (a->role = strdup(role)) == NULL) {
		free(a->name);
		goto nomem;
	}
	ev->nactors++;
	return (0);
nomem:
	aerr_set(err, AERR_NOMEM, "out of memory");
	return (-1);
}

/* Append each name of a "; "-separated list, trimmed, with a role. */
int
import_row_assoc(struct event *ev, const char *list, const char *role,
    struct aerr *err)
{
	const char	*p, *end, *e;

	for (p = list; *p != '\0'; p = *end == ';' ? end + 1 : end) {
		end = strchr(p, ';');
		if (end == NULL)
			end = p + strlen(p);
		while (p < end && *p == ' ')
			p++;
		for (e = end; e > p && e[-1] == ' '; e--)
			continue;
		if (e > p && import_row_actor(ev, p, e - p, role, err) != 0)
			return (-1);
	}
	return (0);
}

/* A coordinate column: absent or a number, which the finish checks. */
static int
import_row_coord(const struct import_header *h, const char *const *f,
    enum import_role r, double *out, int *has, struct aerr *err)
{
	const char	*v;
	char		*end;

	if ((v = import_row_value(h, f, r)) == NULL)
		return (0);
	errno = 0;
	*out = strtod(v, &end);
	if (errno != 0 || *end != '\0' || end == v || !isfinite(*out) ||
	    (*v != '-' && *v != '.' && (*v < '0' || *v > '9'))) {
		aerr_set(err, AERR_INVALID, "%s: \"%.64s\" is not a number",
		    h->names[h->col[r]], v);
		return (-1);
	}
	*has = 1;
	return (0);
}

/* The place's latitude and longitude columns. */
int
import_row_latlon(const struct import_header *h, const char *const *f,
    struct event *ev, struct aerr *err)
{
	if (import_row_coord(h, f, IMPORT_R_LAT, &ev->place.lat,
	    &ev->place.has_lat, err) != 0 ||
	    import_row_coord(h, f, IMPORT_R_LON, &ev->place.lon,
	    &ev->place.has_lon, err) != 0)
		return (-1);
	return (0);
}

/*
 * The text of a plain decimal integer, as printing it gives it back:
 * no sign but '-', no leading zero, no spaces.  Else -1.
 */
int
import_row_int(const char *s, int64_t *v)
{
	const char	*p = s;
	char		*end;
	size_t		 digits;

	if (*p == '-')
		p++;
	digits = strspn(p, "0123456789");
	if (digits == 0 || p[digits] != '\0' || digits > 19 ||
	    (p[0] == '0' && (digits > 1 || p != s)))
		return (-1);
	errno = 0;
	*v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return (-1);
	return (0);
}

/* Set source and key: the dataset's id, with "/" and suffix if given. */
int
import_row_key(struct event *ev, const struct import_header *h,
    const char *source, const char *id, const char *suffix,
    struct aerr *err)
{
	size_t	len;

	if (id == NULL) {
		aerr_set(err, AERR_INVALID, "%s: no event id",
		    h->fmt->roles[IMPORT_R_ID]);
		return (-1);
	}
	if (import_row_str(&ev->source, source != NULL ? source :
	    h->fmt->source, err) != 0)
		return (-1);
	if (suffix == NULL)
		return (import_row_str(&ev->key, id, err));
	len = strlen(id) + 1 + strlen(suffix) + 1;
	if ((ev->key = malloc(len)) == NULL) {
		aerr_set(err, AERR_NOMEM, "out of memory");
		return (-1);
	}
	snprintf(ev->key, len, "%s/%s", id, suffix);
	return (0);
}

/*
 * attrs: every column under its name, but for those whose text a field
 * keeps as is; counts as integers when the text is one.
 */
int
import_row_attrs(const struct import_header *h, const char *const *f,
    struct event *ev, struct aerr *err)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	size_t		 i, n = 0, len;
	int64_t		 v;
	const char	*missing = h->fmt->missing;

	for (i = 0; i < h->ncols; i++) {
		if (!(h->flags[i] & IMPORT_COL_CORE) || f[i][0] == '\0' ||
		    (missing != NULL && strcmp(f[i], missing) == 0))
			n++;
	}
	if (n == 0)
		return (0);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n);
	for (i = 0; i < h->ncols; i++) {
		if ((h->flags[i] & IMPORT_COL_CORE) && f[i][0] != '\0' &&
		    (missing == NULL || strcmp(f[i], missing) != 0))
			continue;
		mp_pack_str(&pk, h->names[i]);
		if ((h->flags[i] & IMPORT_COL_INT) &&
		    import_row_int(f[i], &v) == 0) {
			msgpack_pack_int64(&pk, v);
			continue;
		}
		len = strlen(f[i]);
		msgpack_pack_str(&pk, len);
		msgpack_pack_str_body(&pk, f[i], len);
	}
	if (sb.data == NULL) {
		msgpack_sbuffer_destroy(&sb);
		aerr_set(err, AERR_NOMEM, "out of memory");
		return (-1);
	}
	ev->attrs_len = sb.size;
	ev->attrs = (unsigned char *)msgpack_sbuffer_release(&sb);
	return (0);
}

/*
 * Check the event exactly as the daemon will: pack it and decode it
 * with the daemon's own decoder, keeping the decoded copy, whose span is
 * set.  A row that passes here is never refused by a put.
 */
int
import_row_finish(struct event *ev, struct aerr *err)
{
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 up;
	struct event		 out;
	size_t			 off = 0;
	int			 rc = -1;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	record_pack(&pk, ev);
	msgpack_unpacked_init(&up);
	if (sb.data == NULL)
		aerr_set(err, AERR_NOMEM, "out of memory");
	else if (msgpack_unpack_next(&up, sb.data, sb.size, &off) !=
	    MSGPACK_UNPACK_SUCCESS)
		aerr_set(err, AERR_NOMEM, "out of memory");
	else if (record_decode(&up.data, &out, err) == 0) {
		record_clear(ev);
		*ev = out;
		rc = 0;
	}
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);
	if (rc != 0)
		record_clear(ev);
	return (rc);
}

/* The source of a row keyed by its content that has none of its own. */
const char *
import_row_content_source(const struct import_opts *opts)
{
	return (opts->source != NULL ? opts->source : IMPORT_CONTENT_SOURCE);
}

/*
 * Before the check of a row without a key: a source when it has none,
 * and a key as long as its content key, so that the row is checked as
 * it will be sent.  import_row_content_key() writes the key's digits
 * once the check has made the event what the daemon will keep.
 */
int
import_row_content_begin(struct event *ev, const struct import_opts *opts,
    struct aerr *err)
{
	if (ev->source == NULL && import_row_str(&ev->source,
	    import_row_content_source(opts), err) != 0)
		return (-1);
	return (import_row_str(&ev->key, IMPORT_CONTENT_BLANK, err));
}

/* A msgpack writer that hashes what it is given instead of keeping it. */
static int
import_row_hash(void *data, const char *buf, size_t len)
{
	uint64_t	*h = data;

	*h = hash_fnv(*h, buf, len);
	return (0);
}

/*
 * Key a checked event by its content: the hash of its record without
 * what names it (id, rev, created, updated, source, key), packed
 * straight into the hash.  The packed bytes hold no pointer and no
 * text of the locale's, so the key is the same on every machine.
 */
void
import_row_content_key(struct event *ev)
{
	msgpack_packer	pk;
	struct event	c = *ev;
	uint64_t	h = HASH_FNV_INIT;

	c.id = c.rev = c.created = c.updated = 0;
	c.source = c.key = NULL;
	msgpack_packer_init(&pk, &h, import_row_hash);
	record_pack(&pk, &c);
	/* As long as the key import_row_content_begin() gave it. */
	snprintf(ev->key, IMPORT_CONTENT_KEYLEN + 1, IMPORT_CONTENT_PREFIX
	    "%016" PRIx64, h);
}

/*
 * The fields every dataset maps the same way, once its date, key and
 * actors are set: type, title, text, place, country, coordinates, one
 * URL, and every other column into attrs; then the final check.  A role
 * the format does not map is left alone.  0, or -1 with ev cleared.
 */
int
import_row_rest(const struct import_header *h, const char *const *f,
    struct event *ev, struct aerr *err)
{
	static const struct {
		int	 role;
		size_t	 off;
	} strs[] = {
		{ IMPORT_R_TYPE, offsetof(struct event, type) },
		{ IMPORT_R_TITLE, offsetof(struct event, title) },
		{ IMPORT_R_TEXT, offsetof(struct event, text) },
		{ IMPORT_R_PLACE, offsetof(struct event, place.name) },
		{ IMPORT_R_COUNTRY, offsetof(struct event, place.country) },
	};
	const char	*v;
	size_t		 i;

	for (i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		if ((v = import_row_value(h, f, strs[i].role)) != NULL &&
		    import_row_str((char **)((char *)ev + strs[i].off), v,
		    err) != 0)
			return (import_row_fail(ev));
	}
	if (import_row_latlon(h, f, ev, err) != 0)
		return (import_row_fail(ev));
	if ((v = import_row_value(h, f, IMPORT_R_URL)) != NULL) {
		if ((ev->urls = calloc(1, sizeof *ev->urls)) == NULL) {
			aerr_set(err, AERR_NOMEM, "out of memory");
			return (import_row_fail(ev));
		}
		ev->nurls = 1;
		if (import_row_str(&ev->urls[0], v, err) != 0)
			return (import_row_fail(ev));
	}
	if (import_row_attrs(h, f, ev, err) != 0)
		return (import_row_fail(ev));
	return (import_row_finish(ev, err));
}
