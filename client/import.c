/*
 * annals import: files of events (JSON lines, annals' CSV, GDELT, ACLED,
 * ICEWS; plain, .gz or .zip) into the daemon, in pipelined batches.
 *
 * Sync scripts run this every few minutes over files that overlap the
 * last run's, so every row gets the dataset's own id as source and key:
 * a row imported twice is "unchanged" the second time.  A row of annals'
 * own formats without a key is keyed by its content for the same
 * reason (import-annals.c), unless --no-content-key.  Rows are parsed
 * and checked here, exactly as the daemon checks them
 * (import_row_finish()), so a bad row is reported with its line and
 * skipped while the good ones land; --strict checks every file first
 * and sends nothing when a row is bad.
 *
 * Reading: an input is a stream of bytes cut into lines (import-src.c).
 * A CSV record whose quoted field spans lines is split as its lines come
 * (import-split.c); when it turns out broken, it is reported and the
 * lines after its first are read again, so that one stray quote costs
 * one row.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "import.h"

#define IMPORT_BATCH		1000		/* records per put by default */
#define IMPORT_BATCH_BYTES	(8u << 20)	/* also ends a batch */
#define IMPORT_PENDING_ROWS	16000		/* rows in flight at most */
#define IMPORT_MAX_PENDING	8
#define IMPORT_TICK		0.25		/* seconds between progress */
#define IMPORT_MAX_LAYOUTS	3		/* of one format, in one file */

static int	import_exec(struct cli *, int, char **);

static const struct option import_longopts[] = {
	{ "format",	required_argument,	NULL, 'f' },
	{ "source",	required_argument,	NULL, 's' },
	{ "strict",	no_argument,		NULL, 'S' },
	{ "batch",	required_argument,	NULL, 'b' },
	{ "no-content-key", no_argument,	NULL, 'K' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

const struct cli_command cli_import_command = {
	"import",
	"[--format jsonl|csv|gdelt|acled|icews] [--source NAME]\n"
	"             [--strict] [--batch N] [--no-content-key] FILE...|-",
	import_exec,
	import_longopts
};

/* A batch of checked events and where each came from. */
struct import_batch {
	struct event		*evs;
	struct annals_event	*pubs;
	struct annals_actor	*actors;
	const char		**names;
	size_t			*lines;
	size_t			 n, bytes;
};

struct import_run {
	struct cli		*cli;
	const struct import_format *format;	/* --format, or NULL */
	struct import_opts	 opts;		/* --source, --no-content-key */
	int			 strict;
	int			 check_only;	/* the first pass of --strict */
	size_t			 batch;
	size_t			 depth;		/* batches in flight */

	uint64_t		 rows, added, updated, unchanged, rejected;
	uint64_t		 content;	/* rows keyed by content */
	int			 rc;		/* CLI_EXIT_* besides rejects */
	int			 stop;		/* a failure ends the run */

	int			 tty;
	struct timespec		 t0;
	double			 tlast;
	int			 shown;		/* a progress line is up */
	off_t			 done_bytes;	/* of the files finished */
	off_t			 total_bytes;	/* 0: unknown */
	struct import_src	*cur;
	off_t			 cur_total;

	char			**names;	/* every source name */
	size_t			 nnames;

	struct import_batch	*fill;		/* being filled */
	struct import_batch	*ring[IMPORT_MAX_PENDING];
	size_t			 head, npending;
	struct import_batch	*spare;
	struct annals_put_result *results;

	struct import_names	*dict;		/* names rows give codes */
	uint64_t		 named;		/* of them, new to it */
};

static double
import_elapsed(const struct import_run *run)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((now.tv_sec - run->t0.tv_sec) +
	    (now.tv_nsec - run->t0.tv_nsec) / 1e9);
}

/* Where reading stands, in bytes of the files as stored. */
static off_t
import_position(const struct import_run *run)
{
	if (run->cur == NULL)
		return (run->done_bytes);
	return (run->done_bytes + import_src_offset(run->cur));
}

static void
import_progress_clear(struct import_run *run)
{
	if (run->shown) {
		fputs("\r\033[K", stderr);
		run->shown = 0;
	}
}

/* A line on stderr a few times a second: rows, rate, ETA. */
static void
import_progress(struct import_run *run, int force)
{
	double	t, rate, frac;
	off_t	pos;

	if (!run->tty || run->check_only)
		return;
	t = import_elapsed(run);
	if (!force && t - run->tlast < IMPORT_TICK)
		return;
	run->tlast = t;
	rate = t > 0 ? run->rows / t : 0;
	fprintf(stderr, "\r\033[K%llu row%s, %.0f rows/s",
	    (unsigned long long)run->rows, run->rows == 1 ? "" : "s", rate);
	pos = import_position(run);
	if (run->total_bytes > 0 && pos > 0 && pos <= run->total_bytes) {
		frac = (double)pos / run->total_bytes;
		fprintf(stderr, ", %.0f%%, ETA %.0f s", frac * 100,
		    t / frac - t);
	}
	run->shown = 1;
}

static void	import_warn(struct import_run *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* A message on stderr, below the progress line. */
static void
import_warn(struct import_run *run, const char *fmt, ...)
{
	va_list	ap;

	import_progress_clear(run);
	fputs("annals: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A row that will not be imported. */
static void
import_reject(struct import_run *run, const char *name, size_t line,
    const char *msg)
{
	import_warn(run, "%s:%zu: %s", name, line, msg);
	run->rejected++;
	if (run->check_only)
		run->stop = 1;
}

/* A failure that is not one row's: the file or the daemon. */
static void
import_fail(struct import_run *run, int rc)
{
	if (run->rc == CLI_EXIT_OK || rc == CLI_EXIT_CONNECT)
		run->rc = rc;
}

/* Keep a copy of a source name for the life of the run. */
static const char *
import_name(struct import_run *run, const char *a, const char *b)
{
	char	**nn, *s;
	size_t	  len;

	nn = reallocarray(run->names, run->nnames + 1, sizeof *nn);
	if (nn == NULL)
		return (NULL);
	run->names = nn;
	len = strlen(a) + (b != NULL ? strlen(b) + 1 : 0) + 1;
	if ((s = malloc(len)) == NULL)
		return (NULL);
	if (b == NULL)
		snprintf(s, len, "%s", a);
	else
		snprintf(s, len, "%s:%s", a, b);
	run->names[run->nnames++] = s;
	return (s);
}

/* Batches. */

static void
import_batch_free(struct import_batch *b)
{
	size_t	i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		record_clear(&b->evs[i]);
	free(b->evs);
	free(b->pubs);
	free(b->actors);
	free(b->names);
	free(b->lines);
	free(b);
}

static struct import_batch *
import_batch_new(size_t cap)
{
	struct import_batch	*b;

	if ((b = calloc(1, sizeof *b)) == NULL)
		return (NULL);
	b->evs = calloc(cap, sizeof *b->evs);
	b->pubs = calloc(cap, sizeof *b->pubs);
	b->names = calloc(cap, sizeof *b->names);
	b->lines = calloc(cap, sizeof *b->lines);
	if (b->evs == NULL || b->pubs == NULL || b->names == NULL ||
	    b->lines == NULL) {
		import_batch_free(b);
		return (NULL);
	}
	return (b);
}

/* Empty a batch for reuse. */
static void
import_batch_clear(struct import_batch *b)
{
	size_t	i;

	for (i = 0; i < b->n; i++)
		record_clear(&b->evs[i]);
	b->n = 0;
	b->bytes = 0;
}

/* Point the public views of a batch at its events. */
static int
import_batch_views(struct import_batch *b)
{
	struct annals_event	*p;
	struct event		*ev;
	size_t			 i, nact = 0, k = 0;
	uint32_t		 j;

	for (i = 0; i < b->n; i++)
		nact += b->evs[i].nactors;
	free(b->actors);
	b->actors = NULL;
	if (nact > 0 && (b->actors = calloc(nact, sizeof *b->actors)) == NULL)
		return (-1);
	for (i = 0; i < b->n; i++) {
		ev = &b->evs[i];
		p = &b->pubs[i];
		memset(p, 0, sizeof *p);
		p->source = ev->source;
		p->key = ev->key;
		p->start = ev->start;
		p->end = ev->end;
		p->actors = nact > 0 ? &b->actors[k] : NULL;
		for (j = 0; j < ev->nactors; j++, k++) {
			b->actors[k].name = ev->actors[j].name;
			b->actors[k].role = ev->actors[j].role;
		}
		p->nactors = ev->nactors;
		p->type = ev->type;
		p->title = ev->title;
		p->text = ev->text;
		p->place_name = ev->place.name;
		p->place_country = ev->place.country;
		p->lat = ev->place.lat;
		p->lon = ev->place.lon;
		p->has_lat = ev->place.has_lat;
		p->has_lon = ev->place.has_lon;
		p->urls = (const char *const *)ev->urls;
		p->nurls = ev->nurls;
		p->tags = (const char *const *)ev->tags;
		p->ntags = ev->ntags;
		p->attrs = ev->attrs;
		p->attrs_len = ev->attrs != NULL ? ev->attrs_len : 0;
	}
	return (0);
}

/* Roughly what an event takes packed, to keep batches under a frame. */
static size_t
import_event_bytes(const struct event *ev)
{
	size_t		n = 64 + ev->attrs_len;
	uint32_t	i;

	n += ev->source != NULL ? strlen(ev->source) : 0;
	n += ev->key != NULL ? strlen(ev->key) : 0;
	n += ev->title != NULL ? strlen(ev->title) : 0;
	n += ev->text != NULL ? strlen(ev->text) : 0;
	n += ev->place.name != NULL ? strlen(ev->place.name) : 0;
	for (i = 0; i < ev->nactors; i++)
		n += 24 + strlen(ev->actors[i].name);
	for (i = 0; i < ev->nurls; i++)
		n += 8 + strlen(ev->urls[i]);
	for (i = 0; i < ev->ntags; i++)
		n += 8 + strlen(ev->tags[i]);
	return (n);
}

static int	import_send(struct import_run *, struct import_batch *);

/*
 * Collect the results of the oldest batch in flight.  A record the
 * daemon refused (it should not: we checked) is reported and the rest
 * of its batch sent again.
 */
static void
import_collect(struct import_run *run)
{
	annals_ctx		*ctx = run->cli->ctx;
	struct import_batch	*b;
	const char		*msg;
	char			*end;
	size_t			 n, i, idx;
	int			 code;

	b = run->ring[run->head];
	run->ring[run->head] = NULL;
	run->head = (run->head + 1) % IMPORT_MAX_PENDING;
	run->npending--;
	if (annals_put_wait(ctx, run->results, &n) == 0) {
		for (i = 0; i < n; i++) {
			switch (run->results[i].status) {
			case ANNALS_ADDED:
				run->added++;
				break;
			case ANNALS_UPDATED:
				run->updated++;
				break;
			default:
				run->unchanged++;
				break;
			}
		}
		goto done;
	}
	code = annals_errcode(ctx);
	msg = annals_errmsg(ctx);
	if ((code == ANNALS_EINVALID || code == ANNALS_ENOTFOUND) &&
	    strncmp(msg, "records[", 8) == 0) {
		errno = 0;
		idx = strtoul(msg + 8, &end, 10);
		if (errno == 0 && idx < b->n && strncmp(end, "]: ", 3) == 0) {
			import_reject(run, b->names[idx], b->lines[idx],
			    end + 3);
			record_clear(&b->evs[idx]);
			memmove(&b->evs[idx], &b->evs[idx + 1],
			    (b->n - idx - 1) * sizeof b->evs[0]);
			memmove(&b->names[idx], &b->names[idx + 1],
			    (b->n - idx - 1) * sizeof b->names[0]);
			memmove(&b->lines[idx], &b->lines[idx + 1],
			    (b->n - idx - 1) * sizeof b->lines[0]);
			b->n--;
			if (b->n > 0 && import_send(run, b) == 0)
				return;
			goto done;
		}
	}
	if (b->n > 0)
		import_warn(run, "%s:%zu-%zu: %s", b->names[0], b->lines[0],
		    b->lines[b->n - 1], msg);
	else
		import_warn(run, "%s", msg);
	run->rejected += b->n;
	import_fail(run, cli_common_exit(code));
	run->stop = 1;
done:
	import_batch_clear(b);
	if (run->spare == NULL)
		run->spare = b;
	else
		import_batch_free(b);
}

/* Send a batch; it is in flight until import_collect() takes it. */
static int
import_send(struct import_run *run, struct import_batch *b)
{
	annals_ctx	*ctx = run->cli->ctx;
	size_t		 slot;

	while (run->npending >= run->depth && !run->stop)
		import_collect(run);
	if (run->stop)
		return (-1);
	if (import_batch_views(b) == -1) {
		import_warn(run, "out of memory");
		import_fail(run, CLI_EXIT_ERROR);
		run->stop = 1;
		return (-1);
	}
	if (annals_put_append(ctx, b->pubs, b->n) == -1) {
		import_warn(run, "%s:%zu-%zu: %s", b->names[0], b->lines[0],
		    b->lines[b->n - 1], annals_errmsg(ctx));
		run->rejected += b->n;
		import_fail(run, cli_common_exit(annals_errcode(ctx)));
		run->stop = 1;
		return (-1);
	}
	slot = (run->head + run->npending) % IMPORT_MAX_PENDING;
	run->ring[slot] = b;
	run->npending++;
	return (0);
}

/* Send the batch being filled, if it has anything. */
static void
import_flush(struct import_run *run)
{
	struct import_batch	*b = run->fill;

	if (b == NULL || b->n == 0)
		return;
	run->fill = NULL;
	if (import_send(run, b) == -1) {
		import_batch_clear(b);
		run->fill = b;
	}
}

/* A good row: into the batch, which is sent when full. */
static void
import_take(struct import_run *run, struct import_src *s, size_t line,
    struct event *ev)
{
	struct import_batch	*b;

	if (run->check_only) {
		record_clear(ev);
		return;
	}
	if (run->fill == NULL) {
		if (run->spare != NULL) {
			run->fill = run->spare;
			run->spare = NULL;
		} else if ((run->fill = import_batch_new(run->batch)) ==
		    NULL) {
			record_clear(ev);
			import_warn(run, "out of memory");
			import_fail(run, CLI_EXIT_ERROR);
			run->stop = 1;
			return;
		}
	}
	b = run->fill;
	b->evs[b->n] = *ev;
	b->names[b->n] = s->name;
	b->lines[b->n] = line;
	b->bytes += import_event_bytes(ev);
	b->n++;
	/* The batch owns the event now. */
	memset(ev, 0, sizeof *ev);
	if (b->n == run->batch || b->bytes >= IMPORT_BATCH_BYTES)
		import_flush(run);
}

/* Formats. */

/*
 * The formats, in the order detection tries them: a header line names
 * the first whose mark column it has; a file without one goes to the
 * first format that its name and column count fit.
 */
static const struct import_format *const import_formats[] = {
	&import_jsonl_format,
	&import_acled_format,
	&import_icews_format,
	&import_gdelt_format,
	&import_csv_format,
};
#define IMPORT_NFORMATS	(sizeof import_formats / sizeof import_formats[0])

/* How a source is read, decided from its first line and its name. */
struct import_kind {
	const struct import_format *fmt;
	int	delim;
	int	header;		/* the first record is a header */
};

static int
import_detect(struct import_run *run, struct import_src *s, const char *line,
    size_t len, struct import_kind *k, struct aerr *err)
{
	struct import_split	 csv;
	const char		*p, *hint = s->hint;
	char			 base[4096];
	size_t			 n, i;
	int			 r;

	memset(k, 0, sizeof *k);
	snprintf(base, sizeof base, "%s", hint);
	if (import_name_ends(base, ".gz"))
		base[strlen(base) - 3] = '\0';
	k->fmt = run->format;
	for (p = line; *p == ' ' || *p == '\t'; p++)
		continue;
	if (k->fmt == NULL && (*p == '{' || import_name_ends(base, ".jsonl") ||
	    import_name_ends(base, ".ndjson") ||
	    import_name_ends(base, ".json")))
		k->fmt = &import_jsonl_format;
	if (k->fmt == &import_jsonl_format)
		return (0);
	k->delim = memchr(line, '\t', len) != NULL ? '\t' : ',';

	memset(&csv, 0, sizeof csv);
	csv.delim = k->delim;
	csv.quoted = k->delim == ',';
	r = import_split_feed(&csv, line, len, err);
	if (r == -1) {
		import_split_free(&csv);
		aerr_prefix(err, "first line: ");
		return (-1);
	}
	/* An open quote on the first line: one field, which says little. */
	n = r == IMPORT_SPLIT_DONE ? csv.nfields : 0;
	for (i = 0; k->fmt == NULL && i < IMPORT_NFORMATS; i++) {
		if (import_header_is(import_formats[i], csv.fields, n))
			k->fmt = import_formats[i];
	}
	for (i = 0; k->fmt == NULL && i < IMPORT_NFORMATS; i++) {
		if (import_formats[i]->guess != NULL &&
		    import_formats[i]->guess(base, n))
			k->fmt = import_formats[i];
	}
	if (k->fmt != NULL)
		k->header = import_header_is(k->fmt, csv.fields, n);
	import_split_free(&csv);
	if (k->fmt == NULL) {
		aerr_set(err, AERR_INVALID, "cannot tell the format from the "
		    "name or the first line (%zu column%s); use --format", n,
		    n == 1 ? "" : "s");
		return (-1);
	}
	if (!k->header && k->fmt->layout == NULL) {
		aerr_set(err, AERR_INVALID, "no header line: %s is read by "
		    "column name", k->fmt->name);
		return (-1);
	}
	return (0);
}

/*
 * Send the names gathered for the dictionary, once the puts in flight
 * are answered (a call waits for its own reply).
 */
static void
import_names_flush(struct import_run *run)
{
	annals_ctx	*ctx = run->cli->ctx;

	while (run->npending > 0)
		import_collect(run);
	if (run->stop || import_names_pending(run->dict) == 0)
		return;
	switch (import_names_send(run->dict, ctx, &run->named)) {
	case 0:
		return;
	case -1:
		import_warn(run, "actor names: %s", annals_errmsg(ctx));
		import_fail(run, cli_common_exit(annals_errcode(ctx)));
		break;
	default:
		import_warn(run, "actor names: out of memory");
		import_fail(run, CLI_EXIT_ERROR);
		break;
	}
	run->stop = 1;
}

/* Turn one split record into an event and hand it on. */
static void
import_record(struct import_run *run, struct import_src *s, size_t line,
    const struct import_header *h, struct import_split *csv)
{
	struct event	ev;
	struct aerr	err;
	int		r;

	aerr_clear(&err);
	if ((r = import_row(h, csv->fields, csv->nfields, &run->opts, &ev,
	    &err)) == -1) {
		import_reject(run, s->name, line, err.msg);
		return;
	}
	if (r == IMPORT_ROW_CONTENT)
		run->content++;
	if (!run->check_only) {
		if (import_names_row(run->dict, h, csv->fields) != 0) {
			record_clear(&ev);
			import_warn(run, "out of memory");
			import_fail(run, CLI_EXIT_ERROR);
			run->stop = 1;
			return;
		}
		if (import_names_pending(run->dict) >= DICT_MAX_ENTRIES)
			import_names_flush(run);
	}
	import_take(run, s, line, &ev);
}

/* Append text to a growing buffer. */
static int
import_append(char **buf, size_t *len, size_t *size, const char *p,
    size_t n, int nl)
{
	char	*nb;
	size_t	 nsize;

	if (*len + n + 2 > *size) {
		nsize = *size == 0 ? 4096 : *size;
		while (nsize < *len + n + 2)
			nsize *= 2;
		if ((nb = realloc(*buf, nsize)) == NULL)
			return (-1);
		*buf = nb;
		*size = nsize;
	}
	if (nl)
		(*buf)[(*len)++] = '\n';
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
	return (0);
}

/*
 * The header of a row of n columns in a file without a header line: its
 * format's layout of that many columns, built the first time a row has
 * them (a file of mixed origin changes layout from row to row).
 */
static struct import_header *
import_layout(struct import_header *lay, const struct import_format *fmt,
    size_t n, struct aerr *err)
{
	size_t	i;

	for (i = 0; i < IMPORT_MAX_LAYOUTS; i++) {
		if (lay[i].ncols == n)
			return (&lay[i]);
		if (lay[i].ncols == 0)
			break;
	}
	/* More layouts than a format has: rebuild the last. */
	if (i == IMPORT_MAX_LAYOUTS)
		import_header_clear(&lay[--i]);
	if (import_header_init(&lay[i], fmt, NULL, n, err) != 0)
		return (NULL);
	return (&lay[i]);
}

/*
 * One source as it is read: its format, the CSV splitter, the header or
 * layouts, and the lines of the record at hand.
 */
struct import_pass {
	struct import_run	*run;
	struct import_src	*src;
	struct import_kind	 k;
	struct import_split	 csv;
	struct import_header	 hdr, lay[IMPORT_MAX_LAYOUTS];
	int			 have_header;
	char			*rec;		/* the record's lines */
	size_t			 reclen, recsize;
	int			 nlines;
	size_t			 first;		/* the record's first line */
	size_t			 bad;		/* where to say it is broken */
	struct aerr		 err;
	const char		*why;		/* what stops the source */
};

/*
 * Gather the record that starts with line: one line, or more while a
 * quote is open.  The splitter keeps its place between lines; rec keeps
 * the lines, to be read again if the record turns out broken.  Returns 0
 * with the fields in p->csv, -1 for a broken record (p->err says why,
 * p->bad where), or -2 when the source cannot go on (p->why).
 */
static int
import_pass_gather(struct import_pass *p, char *line, size_t len)
{
	struct import_src	*s = p->src;
	size_t			 n;
	int			 r;

	p->first = s->lineno;
	p->reclen = 0;
	p->nlines = 1;
	if (import_append(&p->rec, &p->reclen, &p->recsize, line, len,
	    0) == -1) {
		p->why = "out of memory";
		return (-2);
	}
	aerr_clear(&p->err);
	r = import_split_feed(&p->csv, line, len, &p->err);
	while (r == IMPORT_SPLIT_MORE) {
		if ((r = import_src_line(s, &line, &len, &p->why)) != 1) {
			if (r == -1)
				return (-2);
			aerr_set(&p->err, AERR_INVALID, "quoted field not "
			    "closed at the end of the input");
			r = -1;
			break;
		}
		p->nlines++;
		if (import_append(&p->rec, &p->reclen, &p->recsize, line,
		    len, 1) == -1) {
			p->why = "out of memory";
			return (-2);
		}
		r = import_split_feed(&p->csv, line, len, &p->err);
	}
	/* An unclosed quote is reported where it opened. */
	p->bad = p->first;
	if (r == -1 && p->csv.open && p->csv.quote_line > 0) {
		p->bad = p->first + p->csv.quote_line;
		n = strlen(p->err.msg);
		snprintf(p->err.msg + n, sizeof p->err.msg - n, " (in the "
		    "row from line %zu)", p->first);
	}
	if (r == -1)
		import_split_reset(&p->csv);
	return (r);
}

/*
 * Take the record gathered with result r: the header, an event, or a
 * rejected row whose lines after the first are read again as rows.
 * Returns -1 when the source cannot go on.
 */
static int
import_pass_take(struct import_pass *p, int r)
{
	struct import_run	*run = p->run;
	struct import_src	*s = p->src;
	struct import_header	*h;
	char			*nl;

	if (!p->have_header && p->k.header) {
		p->have_header = 1;
		if (r == 0 && import_header_init(&p->hdr, p->k.fmt,
		    p->csv.fields, p->csv.nfields, &p->err) == 0)
			return (0);
		import_warn(run, "%s:%zu: %s", s->name, p->bad, p->err.msg);
		import_fail(run, CLI_EXIT_ERROR);
		return (-1);
	}
	run->rows++;

	/* The header, or the layout of this many columns. */
	h = &p->hdr;
	if (r == 0 && !p->k.header && (h = import_layout(p->lay, p->k.fmt,
	    p->csv.nfields, &p->err)) == NULL)
		r = -1;
	if (r == 0 && p->csv.nfields != h->ncols && p->nlines > 1) {
		aerr_set(&p->err, AERR_INVALID, "%zu column%s, expected %zu",
		    p->csv.nfields, p->csv.nfields == 1 ? "" : "s", h->ncols);
		r = -1;
	}
	if (r != 0) {
		import_reject(run, s->name, p->bad, p->err.msg);
		if (p->nlines > 1) {
			nl = memchr(p->rec, '\n', p->reclen);
			if (import_src_unread(s, nl + 1,
			    p->reclen - (nl + 1 - p->rec), p->first + 1) == -1) {
				p->why = "out of memory";
				return (-1);
			}
		}
		return (0);
	}
	import_record(run, s, p->first, h, &p->csv);
	import_progress(run, 0);
	return (0);
}

/* One line of JSON Lines: one event. */
static void
import_pass_jsonl(struct import_pass *p, const char *line, size_t len)
{
	struct event	ev;
	size_t		first = p->src->lineno;
	int		r;

	p->run->rows++;
	aerr_clear(&p->err);
	r = import_jsonl_row(line, len, &p->run->opts, &ev, &p->err);
	if (r == -1)
		import_reject(p->run, p->src->name, first, p->err.msg);
	else {
		if (r == IMPORT_ROW_CONTENT)
			p->run->content++;
		import_take(p->run, p->src, first, &ev);
	}
	import_progress(p->run, 0);
}

/* The first line that is not blank tells the format: -1 if it cannot. */
static int
import_pass_detect(struct import_pass *p)
{
	char	*line;
	size_t	 len;

	do {
		if (import_src_line(p->src, &line, &len, &p->why) != 1)
			return (-1);
	} while (strspn(line, " \r\t") == len);
	aerr_clear(&p->err);
	if (import_detect(p->run, p->src, line, len, &p->k, &p->err) != 0) {
		import_warn(p->run, "%s: %s", p->src->name, p->err.msg);
		import_fail(p->run, CLI_EXIT_ERROR);
		return (-1);
	}
	if (import_src_unread(p->src, line, len, p->src->lineno) == -1) {
		p->why = "out of memory";
		return (-1);
	}
	p->csv.delim = p->k.delim;
	p->csv.quoted = p->k.delim == ',';
	return (0);
}

/* Read every row of one source. */
static void
import_source(struct import_run *run, struct import_src *s)
{
	struct import_pass	 pass, *p = &pass;
	char			*line;
	size_t			 len, i;
	int			 r;

	memset(p, 0, sizeof *p);
	p->run = run;
	p->src = s;
	s->first = 1;
	run->cur = s;

	if (import_pass_detect(p) == 0) {
		while (!run->stop) {
			if (import_src_line(s, &line, &len, &p->why) != 1)
				break;
			if (len == 0 || strspn(line, " \r") == len)
				continue;
			if (p->k.fmt == &import_jsonl_format) {
				import_pass_jsonl(p, line, len);
				continue;
			}
			if ((r = import_pass_gather(p, line, len)) == -2 ||
			    import_pass_take(p, r) != 0)
				break;
		}
	}
	if (p->why != NULL) {
		import_warn(run, "%s:%zu: %s", s->name, s->lineno + 1, p->why);
		import_fail(run, CLI_EXIT_ERROR);
	}
	import_header_clear(&p->hdr);
	for (i = 0; i < IMPORT_MAX_LAYOUTS; i++)
		import_header_clear(&p->lay[i]);
	import_split_free(&p->csv);
	free(p->rec);
	run->cur = NULL;
}

/* Files. */

static void
import_zip(struct import_run *run, const char *path)
{
	struct archive		*ar;
	struct import_src	 s;
	struct aerr		 err;
	int			 r;

	aerr_clear(&err);
	if ((ar = import_src_zip_open(path, &err)) == NULL) {
		import_warn(run, "%s: %s", path, err.msg);
		import_fail(run, CLI_EXIT_ERROR);
		return;
	}
	while (!run->stop) {
		if ((r = import_src_zip_next(ar, &s, &err)) == 0)
			break;
		if (r == -1) {
			import_warn(run, "%s: %s", path, err.msg);
			import_fail(run, CLI_EXIT_ERROR);
			break;
		}
		if ((s.name = import_name(run, path, s.hint)) == NULL) {
			import_warn(run, "out of memory");
			import_fail(run, CLI_EXIT_ERROR);
			import_src_close(&s);
			break;
		}
		import_source(run, &s);
		import_src_close(&s);
	}
	import_src_zip_close(ar);
}

/* One FILE argument ("-" is stdin, or its spool under --strict). */
static void
import_file(struct import_run *run, const char *path, int fd)
{
	struct import_src	s;
	struct stat		st;

	run->cur_total = 0;
	if (fd == -1 && import_src_is_zip(path)) {
		if (stat(path, &st) == 0)
			run->cur_total = st.st_size;
		import_zip(run, path);
		goto done;
	}
	if (fd == -1)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	else
		fd = dup(fd);
	if (fd == -1) {
		import_warn(run, "%s: %s", path, strerror(errno));
		import_fail(run, CLI_EXIT_ERROR);
		return;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		run->cur_total = st.st_size;
	if (import_src_open(&s, fd) == -1) {
		import_warn(run, "%s: out of memory", path);
		import_fail(run, CLI_EXIT_ERROR);
		return;
	}
	s.name = import_name(run, strcmp(path, "-") == 0 ? "stdin" : path,
	    NULL);
	s.hint = path;
	if (s.name == NULL) {
		import_warn(run, "out of memory");
		import_fail(run, CLI_EXIT_ERROR);
	} else
		import_source(run, &s);
	import_src_close(&s);
done:
	run->done_bytes += run->cur_total;
}

/* Copy stdin to a temporary file, so that --strict can read it twice. */
static int
import_spool(struct import_run *run)
{
	FILE	*fp;
	char	 buf[IMPORT_CHUNK];
	size_t	 n;
	int	 fd;

	if ((fp = tmpfile()) == NULL) {
		import_warn(run, "tmpfile: %s", strerror(errno));
		return (-1);
	}
	while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
		if (fwrite(buf, 1, n, fp) != n) {
			import_warn(run, "stdin spool: %s", strerror(errno));
			fclose(fp);
			return (-1);
		}
	}
	if (ferror(stdin) || fflush(fp) != 0) {
		import_warn(run, "stdin: %s", strerror(errno));
		fclose(fp);
		return (-1);
	}
	if ((fd = dup(fileno(fp))) == -1) {
		fclose(fp);
		return (-1);
	}
	fclose(fp);
	return (fd);
}

/* Read every FILE once: to check (--strict's first pass) or to send. */
static void
import_pass(struct import_run *run, int argc, char **argv, int spool)
{
	struct stat	st;
	int		i;

	run->done_bytes = 0;
	run->total_bytes = 0;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0) {
			if (spool == -1 && (fstat(STDIN_FILENO, &st) != 0 ||
			    !S_ISREG(st.st_mode))) {
				run->total_bytes = 0;
				break;
			}
			if (spool != -1 && fstat(spool, &st) != 0)
				continue;
		} else if (stat(argv[i], &st) != 0)
			continue;
		run->total_bytes += st.st_size;
	}
	for (i = 0; i < argc && !run->stop; i++) {
		if (strcmp(argv[i], "-") != 0)
			import_file(run, argv[i], -1);
		else if (spool != -1) {
			lseek(spool, 0, SEEK_SET);
			import_file(run, "-", spool);
		} else
			import_file(run, "-", STDIN_FILENO);
	}
}

static int
import_args(struct import_run *run, int argc, char **argv)
{
	const struct cli_command	*cmd = &cli_import_command;
	char				*end;
	unsigned long			 n;
	size_t				 i;
	int				 ch;

	while ((ch = getopt_long(argc, argv, "h", import_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			for (i = 0; i < IMPORT_NFORMATS; i++) {
				if (strcmp(optarg, import_formats[i]->name) == 0)
					break;
			}
			if (i == IMPORT_NFORMATS)
				return (cli_common_usage(cmd, "--format %s: not "
				    "jsonl, csv, gdelt, acled or icews",
				    optarg));
			run->format = import_formats[i];
			break;
		case 's':
			if (*optarg == '\0' ||
			    strlen(optarg) > EVENT_MAX_SOURCE)
				return (cli_common_usage(cmd, "--source: must "
				    "be 1 to %d bytes", EVENT_MAX_SOURCE));
			run->opts.source = optarg;
			break;
		case 'S':
			run->strict = 1;
			break;
		case 'K':
			run->opts.content_key = 0;
			break;
		case 'b':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n < 1 ||
			    n > PROTO_MAX_BATCH || *optarg < '0' ||
			    *optarg > '9')
				return (cli_common_usage(cmd, "--batch %s: not "
				    "a number from 1 to %d", optarg,
				    PROTO_MAX_BATCH));
			run->batch = n;
			break;
		case 'h':
			cli_common_help(cmd);
			return (-1);
		default:
			return (cli_common_badopt(cmd));
		}
	}
	if (optind == argc)
		return (cli_common_usage(cmd, "no FILE given (- reads stdin)"));
	return (0);
}

/*
 * The summary: one line, which scripts read (contrib/sync).  Rows keyed
 * by their content are named when there are any, for a file whose rows
 * were meant to have keys.
 */
static void
import_summary(const struct import_run *run)
{
	fprintf(stderr, "added %llu, updated %llu, unchanged %llu, "
	    "rejected %llu (%llu row%s in %.2f s",
	    (unsigned long long)run->added, (unsigned long long)run->updated,
	    (unsigned long long)run->unchanged,
	    (unsigned long long)run->rejected, (unsigned long long)run->rows,
	    run->rows == 1 ? "" : "s", import_elapsed(run));
	if (run->content > 0)
		fprintf(stderr, "; %llu keyed by content",
		    (unsigned long long)run->content);
	fputs(")\n", stderr);
}

static int
import_exec(struct cli *cli, int argc, char **argv)
{
	struct import_run	 run;
	size_t			 i;
	int			 rc, spool = -1;

	memset(&run, 0, sizeof run);
	run.cli = cli;
	run.batch = IMPORT_BATCH;
	run.opts.content_key = 1;
	if ((rc = import_args(&run, argc, argv)) != 0)
		return (rc == -1 ? CLI_EXIT_OK : rc);
	argc -= optind;
	argv += optind;
	run.depth = IMPORT_PENDING_ROWS / run.batch;
	if (run.depth < 2)
		run.depth = 2;
	if (run.depth > IMPORT_MAX_PENDING)
		run.depth = IMPORT_MAX_PENDING;
	run.tty = isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &run.t0);

	if ((run.results = calloc(run.batch, sizeof *run.results)) == NULL ||
	    (run.dict = import_names_new()) == NULL) {
		free(run.results);
		cli_common_warn("out of memory");
		return (CLI_EXIT_ERROR);
	}
	if (run.strict) {
		for (i = 0; i < (size_t)argc; i++) {
			if (strcmp(argv[i], "-") == 0 && spool == -1 &&
			    (spool = import_spool(&run)) == -1) {
				free(run.results);
				import_names_free(run.dict);
				return (CLI_EXIT_ERROR);
			}
		}
		/* Every row is checked before the first one is sent. */
		run.check_only = 1;
		import_pass(&run, argc, argv, spool);
		run.check_only = 0;
		if (run.rejected != 0 || run.rc != CLI_EXIT_OK) {
			import_warn(&run, "--strict: nothing imported");
			run.stop = 1;
		} else
			run.rows = run.content = 0;
	}
	if (!run.stop && (rc = cli_common_connect(cli)) != 0)
		import_fail(&run, rc);
	else if (!run.stop) {
		import_pass(&run, argc, argv, spool);
		import_flush(&run);
		import_names_flush(&run);
	}
	if (spool != -1)
		close(spool);
	import_progress_clear(&run);
	import_summary(&run);

	import_batch_free(run.fill);
	import_batch_free(run.spare);
	for (i = 0; i < IMPORT_MAX_PENDING; i++)
		import_batch_free(run.ring[i]);
	for (i = 0; i < run.nnames; i++)
		free(run.names[i]);
	free(run.names);
	free(run.results);
	import_names_free(run.dict);
	if (run.rc != CLI_EXIT_OK)
		return (run.rc);
	return (run.rejected != 0 ? CLI_EXIT_REJECTED : CLI_EXIT_OK);
}
