/*
 * annals' own formats, as annals export writes them: JSON lines (the
 * record exactly, the lossless one) and CSV (one column per field,
 * actors as "NAME:ROLE;NAME", urls and tags ";"-separated, attrs as a
 * JSON object).
 *
 * id, rev, created, updated and match are dropped: an import adds or
 * updates by source and key, never by the id of another database, so
 * that an export imports into an empty daemon.  A row without a key
 * (an event added by hand, a script's dump) is keyed by its content,
 * so that importing it again finds it; with --no-content-key it is
 * added every time, and one with a source but no key is refused.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "import.h"

static int		annals_known(const char *);
static import_row_fn	csv_row;

/* Records, one JSON object a line: no columns, read by import.c. */
const struct import_format import_jsonl_format = {
	.name = "jsonl"
};

const struct import_format import_csv_format = {
	.name = "csv",
	.roles = {
		[IMPORT_R_SOURCE] = "source",
		[IMPORT_R_KEY] = "key",
		[IMPORT_R_DATE] = "start",
		[IMPORT_R_END] = "end",
		[IMPORT_R_ACTORS] = "actors",
		[IMPORT_R_TYPE] = "type",
		[IMPORT_R_TITLE] = "title",
		[IMPORT_R_TEXT] = "text",
		[IMPORT_R_PLACE] = "place",
		[IMPORT_R_COUNTRY] = "country",
		[IMPORT_R_LAT] = "lat",
		[IMPORT_R_LON] = "lon",
		[IMPORT_R_URL] = "urls",
		[IMPORT_R_TAGS] = "tags",
		[IMPORT_R_ATTRS] = "attrs",
	},
	.required = IMPORT_ROLE(IMPORT_R_DATE),
	.mark = IMPORT_R_DATE,
	.known = annals_known,
	.row = csv_row
};

/* Columns of annals' CSV that an import passes over. */
static const char *const annals_ignored[] = {
	"id", "rev", "created", "updated", "match", "via", NULL
};

/* Whether a column of annals' CSV is one we know. */
static int
annals_known(const char *name)
{
	const char *const	*p;
	int			 r;

	for (p = annals_ignored; *p != NULL; p++) {
		if (strcmp(*p, name) == 0)
			return (1);
	}
	for (r = 0; r < IMPORT_NROLES; r++) {
		if (import_csv_format.roles[r] != NULL &&
		    strcmp(import_csv_format.roles[r], name) == 0)
			return (1);
	}
	return (0);
}

/* Turn a packed record into ev, checked as the daemon checks it. */
static int
annals_csv_decode(const char *data, size_t len, struct event *ev,
    struct aerr *err)
{
	msgpack_unpacked	up;
	size_t			off = 0;
	int			rc;

	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, data, len, &off) !=
	    MSGPACK_UNPACK_SUCCESS) {
		msgpack_unpacked_destroy(&up);
		aerr_set(err, AERR_NOMEM, "out of memory");
		return (-1);
	}
	rc = record_decode(&up.data, ev, err);
	msgpack_unpacked_destroy(&up);
	return (rc);
}

/* Whether v is what the record decoder takes for no value. */
static int
jsonl_absent(json_t *v)
{
	return (v == NULL || json_is_null(v) ||
	    (json_is_string(v) && json_string_length(v) == 0));
}

/*
 * A line without a key gets the place of its content key, and a source
 * if it has none: see import_row_content_begin().
 */
static void
jsonl_content_begin(json_t *obj, const struct import_opts *opts)
{
	if (jsonl_absent(json_object_get(obj, "source")))
		json_object_set_new(obj, "source",
		    json_string(import_row_content_source(opts)));
	json_object_set_new(obj, "key", json_string(IMPORT_CONTENT_BLANK));
}

static int
jsonl_row_parse(const char *line, size_t len, const struct import_opts *opts,
    struct event *ev, struct aerr *err)
{
	static const char *const drop[] = { "id", "rev", "created",
	    "updated", "match", "via" };
	msgpack_sbuffer		 sb;
	json_error_t		 jerr;
	json_t			*obj;
	char			 msg[256];
	size_t			 i;
	int			 rc, content;

	memset(ev, 0, sizeof *ev);
	if ((obj = json_load_u64(line, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		aerr_set(err, AERR_INVALID, "%s", jerr.text);
		return (-1);
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		aerr_set(err, AERR_INVALID, "record must be a JSON object");
		return (-1);
	}
	for (i = 0; i < sizeof drop / sizeof drop[0]; i++)
		json_object_del(obj, drop[i]);
	if (opts->source != NULL &&
	    json_is_string(json_object_get(obj, "source")))
		json_object_set_new(obj, "source", json_string(opts->source));
	content = opts->content_key &&
	    jsonl_absent(json_object_get(obj, "key"));
	if (content)
		jsonl_content_begin(obj, opts);
	msgpack_sbuffer_init(&sb);
	if (json_record_attrs(obj, &sb, msg, sizeof msg) != 0) {
		aerr_set(err, AERR_INVALID, "%s", msg);
		rc = -1;
	} else
		rc = annals_csv_decode(sb.data, sb.size, ev, err);
	msgpack_sbuffer_destroy(&sb);
	json_decref(obj);
	if (rc != 0 || !content)
		return (rc);
	import_row_content_key(ev);
	return (IMPORT_ROW_CONTENT);
}

/* Split s at each ';' into a new list, for urls and tags. */
static int
annals_csv_list(const char *s, char ***list, uint32_t *n, struct aerr *err)
{
	const char	*p, *e;
	size_t		 count = 1;

	for (p = s; *p != '\0'; p++)
		count += *p == ';';
	if ((*list = calloc(count, sizeof **list)) == NULL)
		goto nomem;
	for (p = s;; p = e + 1) {
		if ((e = strchr(p, ';')) == NULL)
			e = p + strlen(p);
		if (((*list)[*n] = strndup(p, e - p)) == NULL)
			goto nomem;
		(*n)++;
		if (*e == '\0')
			break;
	}
	return (0);
nomem:
	aerr_set(err, AERR_NOMEM, "out of memory");
	return (-1);
}

/* "NAME:ROLE;NAME": the role follows the last ':' of each entry. */
static int
annals_csv_actors(const char *s, struct event *ev, struct aerr *err)
{
	const char	*p, *e, *colon, *c;
	char		*role;
	int		 rc;

	for (p = s;; p = e + 1) {
		if ((e = strchr(p, ';')) == NULL)
			e = p + strlen(p);
		colon = NULL;
		for (c = p; c < e; c++) {
			if (*c == ':')
				colon = c;
		}
		if (colon == NULL)
			rc = import_row_actor(ev, p, e - p, NULL, err);
		else {
			if ((role = strndup(colon + 1, e - colon - 1)) ==
			    NULL) {
				aerr_set(err, AERR_NOMEM, "out of memory");
				return (-1);
			}
			rc = import_row_actor(ev, p, colon - p, role, err);
			free(role);
		}
		if (rc != 0)
			return (-1);
		if (*e == '\0')
			break;
	}
	return (0);
}

/* A row of annals' CSV. */
static int
csv_row(const struct import_header *h, const char *const *f,
    size_t n, const struct import_opts *opts, struct event *ev,
    struct aerr *err)
{
	static const struct {
		enum import_role	 role;
		size_t			 off;
	} strs[] = {
		{ IMPORT_R_SOURCE, offsetof(struct event, source) },
		{ IMPORT_R_KEY, offsetof(struct event, key) },
		{ IMPORT_R_DATE, offsetof(struct event, start) },
		{ IMPORT_R_END, offsetof(struct event, end) },
		{ IMPORT_R_TYPE, offsetof(struct event, type) },
		{ IMPORT_R_TITLE, offsetof(struct event, title) },
		{ IMPORT_R_TEXT, offsetof(struct event, text) },
		{ IMPORT_R_PLACE, offsetof(struct event, place.name) },
		{ IMPORT_R_COUNTRY, offsetof(struct event, place.country) },
	};
	msgpack_sbuffer		 sb;
	json_error_t		 jerr;
	json_t			*attrs;
	const char		*v;
	char			 msg[256];
	size_t			 i;
	int			 rc, content;

	if (import_row_begin(h, n, ev, err) != 0)
		return (-1);
	for (i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		if ((v = import_row_value(h, f, strs[i].role)) != NULL &&
		    import_row_str((char **)((char *)ev + strs[i].off), v,
		    err) != 0)
			return (import_row_fail(ev));
	}
	if (opts->source != NULL && ev->source != NULL) {
		free(ev->source);
		if (import_row_str(&ev->source, opts->source, err) != 0)
			return (import_row_fail(ev));
	}
	content = opts->content_key && ev->key == NULL;
	if (content && import_row_content_begin(ev, opts, err) != 0)
		return (import_row_fail(ev));
	if ((v = import_row_value(h, f, IMPORT_R_ACTORS)) != NULL &&
	    annals_csv_actors(v, ev, err) != 0)
		return (import_row_fail(ev));
	if (import_row_latlon(h, f, ev, err) != 0)
		return (import_row_fail(ev));
	if ((v = import_row_value(h, f, IMPORT_R_URL)) != NULL &&
	    annals_csv_list(v, &ev->urls, &ev->nurls, err) != 0)
		return (import_row_fail(ev));
	if ((v = import_row_value(h, f, IMPORT_R_TAGS)) != NULL &&
	    annals_csv_list(v, &ev->tags, &ev->ntags, err) != 0)
		return (import_row_fail(ev));
	if ((v = import_row_value(h, f, IMPORT_R_ATTRS)) != NULL) {
		if ((attrs = json_load_u64(v, strlen(v),
		    JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
			aerr_set(err, AERR_INVALID, "attrs: %s", jerr.text);
			return (import_row_fail(ev));
		}
		msgpack_sbuffer_init(&sb);
		rc = json_record_attrs(attrs, &sb, msg, sizeof msg);
		json_decref(attrs);
		if (rc != 0) {
			msgpack_sbuffer_destroy(&sb);
			aerr_set(err, AERR_INVALID, "%s", msg);
			return (import_row_fail(ev));
		}
		if (sb.size > 1) {
			ev->attrs_len = sb.size;
			ev->attrs = (unsigned char *)
			    msgpack_sbuffer_release(&sb);
		}
		msgpack_sbuffer_destroy(&sb);
	}
	if (import_row_finish(ev, err) != 0)
		return (-1);
	if (!content)
		return (0);
	import_row_content_key(ev);
	return (IMPORT_ROW_CONTENT);
}

int
import_jsonl_row(const char *line, size_t len,
    const struct import_opts *opts, struct event *ev, struct aerr *err)
{
	int	r;

	if ((r = jsonl_row_parse(line, len, opts, ev, err)) >= 0)
		return (r);
	import_row_clean(err);
	return (-1);
}
