/*
 * What annals(1) prints: events, actors and statistics as JSON lines,
 * CSV (RFC 4180) or an aligned table for people.
 *
 * A table is buffered until output_end() so that its columns line up;
 * the other formats are written as they come.  In a table a possible
 * match of a range or actor query is marked "?" in its own column, and
 * the code a query by an alias found an event under is in a VIA column,
 * there only when some event has one.  CSV has a via column only when
 * its first event has a via (every hit of a query by an alias has one,
 * no hit of a query by a code), so that the CSV of a query by a code
 * still goes into an annals import that knows no via.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Columns of the table. */
enum {
	OUTPUT_ID, OUTPUT_MATCH, OUTPUT_START, OUTPUT_END, OUTPUT_ACTORS,
	OUTPUT_VIA, OUTPUT_TYPE, OUTPUT_TITLE, OUTPUT_NCOLS
};
static const char *output_heads[OUTPUT_NCOLS] = {
	"ID", "?", "START", "END", "ACTORS", "VIA", "TYPE", "TITLE"
};
/* The record key each column shows; NULL: not a key of the record. */
static const char *output_keys[OUTPUT_NCOLS] = {
	NULL, NULL, "start", "end", "actors", NULL, "type", "title"
};
/* Widest a column other than the last may get; longer text is cut. */
#define OUTPUT_MAX_WIDTH	32

struct output {
	int		  format;	/* OUTPUT_* */
	FILE		 *fp;
	int		  with_match;
	int		  any_via;	/* table: an event came with a via;
					   CSV: the first one did */
	int		  hidden[OUTPUT_NCOLS];	/* table: left out by --fields */
	int		  started;	/* CSV header written */
	int		  failed;

	char		**cells;	/* table: nrows * OUTPUT_NCOLS */
	size_t		  nrows;
	size_t		  nalloc;
};

/* Parse a --format name. */
int
output_format(const char *name, int *format)
{
	if (strcmp(name, "jsonl") == 0 || strcmp(name, "json") == 0)
		*format = OUTPUT_JSONL;
	else if (strcmp(name, "csv") == 0)
		*format = OUTPUT_CSV;
	else if (strcmp(name, "table") == 0)
		*format = OUTPUT_TABLE;
	else
		return (-1);
	return (0);
}

/* A printer of events; with_match for results of range and actor. */
struct output *
output_new(int format, FILE *fp, int with_match)
{
	struct output	*out;

	if ((out = calloc(1, sizeof *out)) == NULL)
		return (NULL);
	out->format = format;
	out->fp = fp;
	out->with_match = with_match;
	return (out);
}

/* Whether the comma list has name as one of its entries. */
static int
output_listed(const char *list, const char *name)
{
	size_t		 len = strlen(name);
	const char	*p;

	for (p = list; p != NULL; p = strchr(p, ',')) {
		if (*p == ',')
			p++;
		if (strncmp(p, name, len) == 0 &&
		    (p[len] == ',' || p[len] == '\0'))
			return (1);
	}
	return (0);
}

/*
 * The events come with only the keys of --fields (a comma list, NULL
 * for all): a table shows the columns of those keys only.  CSV keeps
 * its columns, the others empty, so that its header does not change
 * with the options; JSON lines have the keys that came.
 */
void
output_fields(struct output *out, const char *fields)
{
	int	i;

	for (i = 0; i < OUTPUT_NCOLS; i++)
		out->hidden[i] = fields != NULL && *fields != '\0' &&
		    output_keys[i] != NULL && !output_listed(fields,
		    output_keys[i]);
}

void
output_free(struct output *out)
{
	size_t	i;

	if (out == NULL)
		return;
	for (i = 0; i < out->nrows * OUTPUT_NCOLS; i++)
		free(out->cells[i]);
	free(out->cells);
	free(out);
}

/* The display width of UTF-8 text: its code points. */
static size_t
output_width(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return (n);
}

/* A copy of s fit for one table cell: no controls, at most max wide. */
static char *
output_cell(const char *s, size_t max)
{
	char	*c;
	size_t	 i, w, keep, len;

	if (s == NULL)
		s = "";
	len = strlen(s);
	if ((c = malloc(len + 4)) == NULL)
		return (NULL);
	keep = output_width(s) <= max || max < 3 ? SIZE_MAX : max - 3;
	for (i = 0, w = 0; i < len; i++) {
		/* Cut at a character boundary and say so. */
		if (((unsigned char)s[i] & 0xc0) != 0x80 && w++ == keep) {
			memcpy(c + i, "...", 4);
			return (c);
		}
		c[i] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
	}
	c[len] = '\0';
	return (c);
}

/* "RUS(host),EGY" into buf, cut at size. */
static void
output_actors(const struct annals_event *ev, char *buf, size_t size,
    const char *sep, const char *role_open, const char *role_close)
{
	size_t	i, len;

	buf[0] = '\0';
	for (i = 0; i < ev->nactors; i++) {
		len = strlen(buf);
		snprintf(buf + len, size - len, "%s%s%s%s%s", i ? sep : "",
		    ev->actors[i].name,
		    ev->actors[i].role ? role_open : "",
		    ev->actors[i].role ? ev->actors[i].role : "",
		    ev->actors[i].role ? role_close : "");
	}
}

static int
output_table_row(struct output *out, const struct annals_event *ev,
    const struct annals_via *via)
{
	char	 id[32], actors[1024], **row, **ncells;
	size_t	 i, nalloc;

	if (out->nrows == out->nalloc) {
		nalloc = out->nalloc == 0 ? 64 : out->nalloc * 2;
		ncells = realloc(out->cells,
		    nalloc * OUTPUT_NCOLS * sizeof *out->cells);
		if (ncells == NULL)
			return (-1);
		out->cells = ncells;
		out->nalloc = nalloc;
	}
	snprintf(id, sizeof id, "%llu", (unsigned long long)ev->id);
	output_actors(ev, actors, sizeof actors, ",", "(", ")");
	row = &out->cells[out->nrows * OUTPUT_NCOLS];
	row[OUTPUT_ID] = output_cell(id, OUTPUT_MAX_WIDTH);
	row[OUTPUT_MATCH] = output_cell(ev->match == ANNALS_MATCH_POSSIBLE ?
	    "?" : "", 1);
	row[OUTPUT_START] = output_cell(ev->start, OUTPUT_MAX_WIDTH);
	row[OUTPUT_END] = output_cell(ev->end, OUTPUT_MAX_WIDTH);
	row[OUTPUT_ACTORS] = output_cell(actors, OUTPUT_MAX_WIDTH);
	row[OUTPUT_VIA] = output_cell(via != NULL ? via->code : NULL,
	    OUTPUT_MAX_WIDTH);
	row[OUTPUT_TYPE] = output_cell(ev->type, OUTPUT_MAX_WIDTH);
	row[OUTPUT_TITLE] = output_cell(ev->title, 200);
	for (i = 0; i < OUTPUT_NCOLS; i++) {
		if (row[i] == NULL)
			break;
	}
	if (i < OUTPUT_NCOLS) {
		for (i = 0; i < OUTPUT_NCOLS; i++)
			free(row[i]);
		return (-1);
	}
	out->nrows++;
	if (via != NULL)
		out->any_via = 1;
	return (0);
}

/* Whether the table has column i. */
static int
output_table_has(const struct output *out, size_t i)
{
	if (out->hidden[i])
		return (0);
	if (i == OUTPUT_MATCH)
		return (out->with_match);
	if (i == OUTPUT_VIA)
		return (out->any_via);
	return (1);
}

static void
output_table_print(struct output *out)
{
	size_t		 width[OUTPUT_NCOLS], r, i, w, end;
	const char	*s;
	int		 last;

	for (i = 0; i < OUTPUT_NCOLS; i++)
		width[i] = strlen(output_heads[i]);
	/* The last column shown is not padded. */
	for (end = OUTPUT_NCOLS; end > 1 && !output_table_has(out, end - 1);
	    end--)
		;
	for (r = 0; r < out->nrows; r++) {
		for (i = 0; i < OUTPUT_NCOLS; i++) {
			w = output_width(out->cells[r * OUTPUT_NCOLS + i]);
			if (w > width[i])
				width[i] = w;
		}
	}
	for (r = 0; r <= out->nrows; r++) {
		for (i = 0; i < end; i++) {
			if (!output_table_has(out, i))
				continue;
			s = r == 0 ? output_heads[i] :
			    out->cells[(r - 1) * OUTPUT_NCOLS + i];
			last = i == end - 1;
			if (i == OUTPUT_ID)
				fprintf(out->fp, "%*s", (int)width[i], s);
			else
				fputs(s, out->fp);
			if (!last && i != OUTPUT_ID) {
				for (w = output_width(s); w < width[i]; w++)
					putc(' ', out->fp);
			}
			if (!last)
				fputs("  ", out->fp);
		}
		putc('\n', out->fp);
	}
	if (out->nrows == 0)
		fputs("no events\n", out->fp);
}

/* One CSV field, quoted when it needs to be. */
static void
output_csv_field(FILE *fp, const char *s, int first)
{
	if (!first)
		putc(',', fp);
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, fp);
		return;
	}
	putc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putc('"', fp);
		putc(*s, fp);
	}
	putc('"', fp);
}

static void
output_csv_list(FILE *fp, const char *const *list, size_t n)
{
	char	*buf = NULL;
	size_t	 size = 0, i;
	FILE	*mem;

	if ((mem = open_memstream(&buf, &size)) == NULL)
		return;
	for (i = 0; i < n; i++)
		fprintf(mem, "%s%s", i ? ";" : "", list[i]);
	fclose(mem);
	output_csv_field(fp, buf, 0);
	free(buf);
}

/* ",N", or "," alone for 0. */
static void
output_csv_uint(FILE *fp, uint64_t v)
{
	if (v != 0)
		fprintf(fp, ",%llu", (unsigned long long)v);
	else
		putc(',', fp);
}

/* The shortest decimal form of d that reads back as d. */
static void
output_real(char *buf, size_t size, double d)
{
	int	prec;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
}

/*
 * The CSV header, once: before the first row, whose via (NULL: none)
 * says whether there is a via column, or alone, without one, if no row
 * came.
 */
static void
output_csv_header(struct output *out, const struct annals_via *via)
{
	if (out->started)
		return;
	out->any_via = out->with_match && via != NULL;
	fputs("id,rev,created,updated,source,key,start,end,actors,type,"
	    "title,text,place,country,lat,lon,urls,tags,attrs", out->fp);
	if (out->with_match)
		fputs(",match", out->fp);
	fputs(out->any_via ? ",via\n" : "\n", out->fp);
	out->started = 1;
}

static int
output_csv_row(struct output *out, const struct annals_event *ev,
    const struct annals_via *via)
{
	FILE	*fp = out->fp;
	char	 num[64], actors[4096], *attrs = NULL, err[256];
	size_t	 size = 0;
	json_t	*o, *a;
	FILE	*mem;

	output_csv_header(out, via);
	fprintf(fp, "%llu", (unsigned long long)ev->id);
	/* 0 is a key --fields left out: stored events have all three. */
	output_csv_uint(fp, ev->rev);
	output_csv_uint(fp, ev->created);
	output_csv_uint(fp, ev->updated);
	output_csv_field(fp, ev->source, 0);
	output_csv_field(fp, ev->key, 0);
	output_csv_field(fp, ev->start, 0);
	output_csv_field(fp, ev->end, 0);
	output_actors(ev, actors, sizeof actors, ";", ":", "");
	output_csv_field(fp, actors, 0);
	output_csv_field(fp, ev->type, 0);
	output_csv_field(fp, ev->title, 0);
	output_csv_field(fp, ev->text, 0);
	output_csv_field(fp, ev->place_name, 0);
	output_csv_field(fp, ev->place_country, 0);
	output_real(num, sizeof num, ev->lat);
	output_csv_field(fp, ev->has_lat ? num : NULL, 0);
	output_real(num, sizeof num, ev->lon);
	output_csv_field(fp, ev->has_lon ? num : NULL, 0);
	output_csv_list(fp, ev->urls, ev->nurls);
	output_csv_list(fp, ev->tags, ev->ntags);
	/* attrs as the JSON of the event has them, without the newline. */
	attrs = NULL;
	if (ev->attrs_len != 0 &&
	    (o = json_record_encode(ev, 0, err, sizeof err)) != NULL) {
		a = json_object_get(o, "attrs");
		if ((mem = open_memstream(&attrs, &size)) != NULL) {
			json_record_write(mem, a);
			fclose(mem);
			if (size > 0)
				attrs[size - 1] = '\0';
		}
		json_decref(o);
	}
	output_csv_field(fp, attrs, 0);
	free(attrs);
	if (out->with_match) {
		output_csv_field(fp, ev->match == ANNALS_MATCH_CERTAIN ?
		    "certain" : ev->match == ANNALS_MATCH_POSSIBLE ?
		    "possible" : NULL, 0);
	}
	if (out->any_via)
		output_csv_field(fp, via != NULL ? via->code : NULL, 0);
	putc('\n', fp);
	return (0);
}

/*
 * Print one event (or keep it for the table); -1 if it could not be.
 * via, when not NULL, is how a query by an alias found it.
 */
int
output_event(struct output *out, const struct annals_event *ev,
    const struct annals_via *via)
{
	json_t	*o, *v;
	char	 err[256];
	int	 rc;

	switch (out->format) {
	case OUTPUT_TABLE:
		if (output_table_row(out, ev, via) == -1) {
			cli_common_warn("out of memory");
			return (-1);
		}
		return (0);
	case OUTPUT_CSV:
		return (output_csv_row(out, ev, via));
	}
	if ((o = json_record_encode(ev, out->with_match, err,
	    sizeof err)) == NULL) {
		cli_common_warn("event %llu: %s", (unsigned long long)ev->id,
		    err);
		return (-1);
	}
	/*
	 * As the protocol has it, after match; a code the daemon named
	 * none for (NULL) is "" as it sent it, and as HTTP has it.
	 */
	if (via != NULL && ((v = json_pack("{s:s, s:s}", "alias",
	    via->alias, "code", via->code != NULL ? via->code : "")) == NULL ||
	    json_object_set_new(o, "via", v) == -1)) {
		json_decref(o);
		cli_common_warn("out of memory");
		return (-1);
	}
	rc = json_record_write(out->fp, o);
	json_decref(o);
	return (rc);
}

/*
 * Finish: print the table; -1 if writing failed.  An empty result is
 * still a table with its header and "no events" for a person, and a
 * header for CSV, but nothing at all as JSON lines.
 */
int
output_end(struct output *out)
{
	if (out->format == OUTPUT_TABLE)
		output_table_print(out);
	else if (out->format == OUTPUT_CSV)
		output_csv_header(out, NULL);
	if (fflush(out->fp) != 0 || ferror(out->fp))
		return (-1);
	return (0);
}

/*
 * One actor of "annals actors"; first says whether to print a header.
 * With name NULL, the end of the list: only the header, and in a table
 * "no actors", when there was no actor.
 */
int
output_actor(int format, FILE *fp, int first, const char *name,
    uint64_t count, const char *label)
{
	json_t	*o;
	int	 rc;

	if (name == NULL && !first)
		return (0);
	switch (format) {
	case OUTPUT_TABLE:
		/* The list is streamed: a count column of fixed width. */
		if (first)
			fprintf(fp, "%10s  %s\n", "EVENTS", "ACTOR");
		if (name == NULL)
			fputs("no actors\n", fp);
		else
			fprintf(fp, "%10llu  %s%s%s\n",
			    (unsigned long long)count, name,
			    label != NULL ? "  " : "", label != NULL ? label : "");
		break;
	case OUTPUT_CSV:
		if (first)
			fputs("name,count\n", fp);
		if (name == NULL)
			break;
		output_csv_field(fp, name, 1);
		fprintf(fp, ",%llu\n", (unsigned long long)count);
		break;
	default:
		if (name == NULL)
			break;
		o = json_pack("{s:s, s:I}", "name", name, "count",
		    (json_int_t)count);
		if (o == NULL)
			return (-1);
		if (label != NULL)
			json_object_set_new(o, "label", json_string(label));
		rc = json_record_write(fp, o);
		json_decref(o);
		return (rc);
	}
	return (ferror(fp) ? -1 : 0);
}

/*
 * One figure of the stats map: "replica.lag_seconds" for a nested one,
 * "databases.events.bytes" for one nested twice.
 */
struct output_stat {
	char			 name[96];
	const msgpack_object	*value;
};

#define OUTPUT_STATS_MAX	160

/*
 * Flatten map into out from *n on, its names after prefix, in the
 * daemon's order; maps within maps only when deep says so.
 */
static void
output_stats_flatten(const msgpack_object *map, const char *prefix,
    int deep, struct output_stat *out, size_t *n)
{
	const msgpack_object_kv	*kv;
	char			 name[sizeof out->name];
	uint32_t		 i;

	for (i = 0; i < map->via.map.size && *n < OUTPUT_STATS_MAX; i++) {
		kv = &map->via.map.ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR)
			continue;
		snprintf(name, sizeof name, "%s%.*s", prefix,
		    (int)kv->key.via.str.size, kv->key.via.str.ptr);
		if (kv->val.type != MSGPACK_OBJECT_MAP) {
			memcpy(out[*n].name, name, sizeof name);
			out[(*n)++].value = &kv->val;
		} else if (deep > 0) {
			strncat(name, ".", sizeof name - strlen(name) - 1);
			output_stats_flatten(&kv->val, name, deep - 1, out, n);
		}
	}
}

/*
 * A map of maps in the stats map (databases) as a table of its own:
 * a row for each, a column for each figure of the first.
 */
static void
output_stats_table(FILE *fp, const msgpack_object_kv *kv)
{
	const msgpack_object	*row, *first = &kv->val.via.map.ptr[0].val;
	const msgpack_object	*name;
	uint32_t		 i, j;

	fprintf(fp, "\n%-12.*s", (int)kv->key.via.str.size,
	    kv->key.via.str.ptr);
	for (j = 0; j < first->via.map.size; j++) {
		name = &first->via.map.ptr[j].key;
		fprintf(fp, " %12.*s", (int)name->via.str.size,
		    name->via.str.ptr);
	}
	putc('\n', fp);
	for (i = 0; i < kv->val.via.map.size; i++) {
		name = &kv->val.via.map.ptr[i].key;
		row = &kv->val.via.map.ptr[i].val;
		if (name->type != MSGPACK_OBJECT_STR ||
		    row->type != MSGPACK_OBJECT_MAP)
			continue;
		fprintf(fp, "%-12.*s", (int)name->via.str.size,
		    name->via.str.ptr);
		for (j = 0; j < row->via.map.size; j++) {
			if (row->via.map.ptr[j].val.type ==
			    MSGPACK_OBJECT_POSITIVE_INTEGER)
				fprintf(fp, " %12llu", (unsigned long long)
				    row->via.map.ptr[j].val.via.u64);
		}
		putc('\n', fp);
	}
}

/* Whether v is a map whose first value is a map: a table. */
static int
output_stats_is_table(const msgpack_object *v)
{
	return (v->type == MSGPACK_OBJECT_MAP && v->via.map.size > 0 &&
	    v->via.map.ptr[0].val.type == MSGPACK_OBJECT_MAP &&
	    v->via.map.ptr[0].val.via.map.size > 0);
}

/* A figure as text; nil (and anything that is no scalar) as nothing. */
static void
output_stats_scalar(FILE *fp, const msgpack_object *v, int csv)
{
	char	*s;

	switch (v->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		fprintf(fp, "%llu", (unsigned long long)v->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		fprintf(fp, "%lld", (long long)v->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		fprintf(fp, "%.3f", v->via.f64);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		fputs(v->via.boolean ? "true" : "false", fp);
		break;
	case MSGPACK_OBJECT_STR:
		if ((s = strndup(v->via.str.ptr, v->via.str.size)) == NULL)
			break;
		if (csv)
			output_csv_field(fp, s, 1);
		else
			fputs(s, fp);
		free(s);
		break;
	default:
		break;
	}
}

/*
 * The daemon's stats map as it came: a "name value" table, a CSV header
 * and row, or the map itself as one JSON line.
 */
int
output_stats(int format, FILE *fp, const msgpack_object *map)
{
	struct output_stat	 st[OUTPUT_STATS_MAX];
	json_t			*o;
	char			 err[256];
	size_t			 i, n;
	int			 rc;

	if (map->type != MSGPACK_OBJECT_MAP)
		return (-1);
	n = 0;
	switch (format) {
	case OUTPUT_TABLE:
		output_stats_flatten(map, "", 1, st, &n);
		for (i = 0; i < n; i++) {
			fprintf(fp, "%-12s ", st[i].name);
			output_stats_scalar(fp, st[i].value, 0);
			putc('\n', fp);
		}
		for (i = 0; i < map->via.map.size; i++)
			if (map->via.map.ptr[i].key.type == MSGPACK_OBJECT_STR &&
			    output_stats_is_table(&map->via.map.ptr[i].val))
				output_stats_table(fp, &map->via.map.ptr[i]);
		break;
	case OUTPUT_CSV:
		output_stats_flatten(map, "", 2, st, &n);
		for (i = 0; i < n; i++)
			output_csv_field(fp, st[i].name, i == 0);
		putc('\n', fp);
		for (i = 0; i < n; i++) {
			if (i > 0)
				putc(',', fp);
			output_stats_scalar(fp, st[i].value, 1);
		}
		putc('\n', fp);
		break;
	default:
		if ((o = json_from_mp(map, err, sizeof err)) == NULL) {
			cli_common_warn("stats: %s", err);
			return (-1);
		}
		rc = json_record_write(fp, o);
		json_decref(o);
		return (rc);
	}
	return (ferror(fp) ? -1 : 0);
}

/*
 * What a put did to one event, as the HTTP API answers a POST:
 * "added 79 (rev 1)" in a table, {"id", "rev", "status"} otherwise.
 * first says whether to print the CSV header.
 */
int
output_put(int format, FILE *fp, int first,
    const struct annals_put_result *res)
{
	const char	*status;
	json_t		*o;
	int		 rc;

	switch (res->status) {
	case ANNALS_ADDED:
		status = "added";
		break;
	case ANNALS_UPDATED:
		status = "updated";
		break;
	default:
		status = "unchanged";
		break;
	}
	switch (format) {
	case OUTPUT_TABLE:
		fprintf(fp, "%s %llu (rev %llu)\n", status,
		    (unsigned long long)res->id, (unsigned long long)res->rev);
		break;
	case OUTPUT_CSV:
		if (first)
			fputs("id,rev,status\n", fp);
		fprintf(fp, "%llu,%llu,%s\n", (unsigned long long)res->id,
		    (unsigned long long)res->rev, status);
		break;
	default:
		o = json_pack("{s:I, s:I, s:s}", "id", (json_int_t)res->id,
		    "rev", (json_int_t)res->rev, "status", status);
		if (o == NULL)
			return (-1);
		rc = json_record_write(fp, o);
		json_decref(o);
		return (rc);
	}
	return (ferror(fp) ? -1 : 0);
}

/*
 * Whether rm deleted an event, as the HTTP API answers a DELETE:
 * {"id", "deleted"}.  A table lists only what was deleted; the caller
 * says on stderr what was not found.
 */
int
output_deleted(int format, FILE *fp, int first, uint64_t id, int deleted)
{
	json_t	*o;
	int	 rc;

	switch (format) {
	case OUTPUT_TABLE:
		if (deleted)
			fprintf(fp, "deleted %llu\n", (unsigned long long)id);
		break;
	case OUTPUT_CSV:
		if (first)
			fputs("id,deleted\n", fp);
		fprintf(fp, "%llu,%s\n", (unsigned long long)id,
		    deleted ? "true" : "false");
		break;
	default:
		o = json_pack("{s:I, s:b}", "id", (json_int_t)id, "deleted",
		    deleted);
		if (o == NULL)
			return (-1);
		rc = json_record_write(fp, o);
		json_decref(o);
		return (rc);
	}
	return (ferror(fp) ? -1 : 0);
}
