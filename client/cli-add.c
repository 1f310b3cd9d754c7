/*
 * annals add: one event from options, or JSON records from stdin, one
 * after another however they are laid out, sent in pipelined batches.
 * Either way what became of each record is printed, one per line, in
 * input order: its id and rev, and whether it was added, updated or
 * unchanged (output_put()).
 *
 * Options are turned into the same JSON a line of stdin would hold, so
 * both paths check and convert records with the same code (json.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Records per put, and the bytes of JSON that also end a batch. */
#define CLI_ADD_BATCH		1000
#define CLI_ADD_BATCH_BYTES	(8u << 20)
/* Batches in flight: enough to keep the daemon's commits busy. */
#define CLI_ADD_PENDING		4
/*
 * The JSON text of one record from stdin is held whole, up to the
 * daemon's default frame, which the packed record has to fit in as well
 * (annals(1) states the limit); stdin is read this much at a time.
 */
#define CLI_ADD_MAX_VALUE	PROTO_MAX_FRAME
#define CLI_ADD_CHUNK		65536

static int	cli_add_exec(struct cli *, int, char **);

static const struct option cli_add_longopts[] = {
	{ "start",	required_argument,	NULL, 's' },
	{ "end",	required_argument,	NULL, 'e' },
	{ "actor",	required_argument,	NULL, 'a' },
	{ "type",	required_argument,	NULL, 'y' },
	{ "title",	required_argument,	NULL, 't' },
	{ "text",	required_argument,	NULL, 'x' },
	{ "place",	required_argument,	NULL, 'p' },
	{ "country",	required_argument,	NULL, 'c' },
	{ "lat",	required_argument,	NULL, 'L' },
	{ "lon",	required_argument,	NULL, 'O' },
	{ "url",	required_argument,	NULL, 'u' },
	{ "tag",	required_argument,	NULL, 'g' },
	{ "source",	required_argument,	NULL, 'S' },
	{ "key",	required_argument,	NULL, 'k' },
	{ "attr",	required_argument,	NULL, 'A' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

const struct cli_command cli_add_command = {
	"add",
	"--start DATE [--end DATE] --actor CODE[:ROLE] ... [--type T]\n"
	"             --title TEXT [--text TEXT] [--place NAME] "
	"[--country CC]\n"
	"             [--lat X --lon Y] [--url URL]... [--tag T]...\n"
	"             [--source S --key K] [--attr NAME=VALUE]...\n"
	"  annals add -",
	cli_add_exec,
	cli_add_longopts
};

/*
 * stdin cut into JSON values: one a line, as export writes them, or
 * pretty-printed over several lines, as jq writes them, or several on a
 * line.  Only the value being read is held.
 */
struct cli_add_input {
	char	*buf;
	size_t	 size;
	size_t	 len;		/* bytes read into buf */
	size_t	 off;		/* where the next value is looked for */
	size_t	 line;		/* the line of buf[off] */
	int	 eof;
};

/* The records of one batch and the input lines they came from. */
struct cli_add_batch {
	struct json_record	 recs[CLI_ADD_BATCH];
	struct annals_event	 events[CLI_ADD_BATCH];
	size_t			 lines[CLI_ADD_BATCH];
	size_t			 n;
	size_t			 bytes;
};

/* Batches sent: their line numbers, until their results come. */
struct cli_add_state {
	struct cli		*cli;
	struct cli_add_batch	 cur;
	size_t			 lines[CLI_ADD_PENDING][CLI_ADD_BATCH];
	size_t			 counts[CLI_ADD_PENDING];
	size_t			 head;
	size_t			 npending;
	struct annals_put_result results[CLI_ADD_BATCH];
	size_t			 printed;
	int			 rc;
};

/*
 * Report a rejected batch.  The daemon names the bad record as
 * "records[i]: "; say which line of stdin that was instead.
 */
static int
cli_add_report(const char *msg, const size_t *lines, size_t n, int code)
{
	size_t	 idx;
	char	*end;

	if (strncmp(msg, "records[", 8) == 0) {
		errno = 0;
		idx = strtoul(msg + 8, &end, 10);
		if (errno == 0 && idx < n && strncmp(end, "]: ", 3) == 0) {
			cli_common_warn("stdin:%zu: %s%s", lines[idx], end + 3,
			    cli_common_hint(end + 3));
			return (cli_common_exit(code));
		}
	}
	if (n > 0)
		cli_common_warn("stdin:%zu-%zu: %s%s", lines[0], lines[n - 1],
		    msg, cli_common_hint(msg));
	else
		cli_common_warn("%s%s", msg, cli_common_hint(msg));
	return (cli_common_exit(code));
}

/* Collect the results of the oldest batch in flight and print its ids. */
static int
cli_add_collect(struct cli_add_state *st)
{
	annals_ctx	*ctx = st->cli->ctx;
	size_t		 n, i, slot;
	int		 rc;

	slot = st->head;
	st->head = (st->head + 1) % CLI_ADD_PENDING;
	st->npending--;
	if (annals_put_wait(ctx, st->results, &n) == -1) {
		rc = cli_add_report(annals_errmsg(ctx), st->lines[slot],
		    st->counts[slot], annals_errcode(ctx));
		if (st->rc == CLI_EXIT_OK || rc == CLI_EXIT_CONNECT)
			st->rc = rc;
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (output_put(st->cli->format, stdout, st->printed++ == 0,
		    &st->results[i]) == -1 && st->rc == CLI_EXIT_OK)
			st->rc = CLI_EXIT_ERROR;
	}
	return (0);
}

/* Send the current batch, first making room among those in flight. */
static int
cli_add_flush(struct cli_add_state *st)
{
	struct cli_add_batch	*b = &st->cur;
	annals_ctx		*ctx = st->cli->ctx;
	size_t			 i, slot;
	int			 rc = 0;

	if (b->n == 0)
		return (0);
	if (st->npending == CLI_ADD_PENDING && cli_add_collect(st) == -1)
		rc = -1;
	if (rc == 0) {
		for (i = 0; i < b->n; i++)
			b->events[i] = b->recs[i].ev;
		if (annals_put_append(ctx, b->events, b->n) == -1) {
			st->rc = cli_add_report(annals_errmsg(ctx), b->lines,
			    b->n, annals_errcode(ctx));
			rc = -1;
		} else {
			slot = (st->head + st->npending) % CLI_ADD_PENDING;
			memcpy(st->lines[slot], b->lines,
			    b->n * sizeof b->lines[0]);
			st->counts[slot] = b->n;
			st->npending++;
		}
	}
	/* The batch was packed and sent: its records are no longer needed. */
	for (i = 0; i < b->n; i++)
		json_record_clear(&b->recs[i]);
	b->n = 0;
	b->bytes = 0;
	return (rc);
}

/*
 * Read more of stdin, keeping what is left from in->off on, moved to
 * the front of the buffer.  Returns 0, or -1 when reading failed or the
 * value being read is already too long.
 */
static int
cli_add_fill(struct cli_add_input *in)
{
	size_t	 nsize, n;
	char	*nbuf;

	if (in->off > 0) {
		memmove(in->buf, in->buf + in->off, in->len - in->off);
		in->len -= in->off;
		in->off = 0;
	}
	if (in->len > CLI_ADD_MAX_VALUE) {
		cli_common_warn("stdin:%zu: record longer than %u bytes",
		    in->line, CLI_ADD_MAX_VALUE);
		return (-1);
	}
	if (in->size - in->len < CLI_ADD_CHUNK) {
		nsize = in->size == 0 ? 4 * CLI_ADD_CHUNK : 2 * in->size;
		if (nsize > CLI_ADD_MAX_VALUE + CLI_ADD_CHUNK)
			nsize = CLI_ADD_MAX_VALUE + CLI_ADD_CHUNK;
		if ((nbuf = realloc(in->buf, nsize)) == NULL) {
			cli_common_warn("out of memory");
			return (-1);
		}
		in->buf = nbuf;
		in->size = nsize;
	}
	n = fread(in->buf + in->len, 1, in->size - in->len, stdin);
	if (n == 0) {
		if (ferror(stdin)) {
			cli_common_warn("stdin: %s", strerror(errno));
			return (-1);
		}
		in->eof = 1;
	}
	in->len += n;
	return (0);
}

static int
cli_add_space(char c)
{
	return (c == ' ' || c == '\t' || c == '\r' || c == '\n');
}

/*
 * The next JSON value of stdin in *val and *len, valid until the next
 * call, and the line it begins on in *line.  An object or an array ends
 * at its closing bracket, found by counting brackets outside strings;
 * anything else, which is no record, ends at white space.  At the end
 * of the input the rest is the value, so that jansson can say what is
 * missing (on the last line that has text).  Returns 1, 0 at the end,
 * -1 when reading failed (said on stderr).
 *
 * jansson's JSON_DISABLE_EOF_CHECK would find the end too, but only
 * with the whole value in hand, and not for integers over INT64_MAX,
 * which json_load_u64() has to rewrite before jansson sees them.
 */
static int
cli_add_next(struct cli_add_input *in, const char **val, size_t *len,
    size_t *line)
{
	size_t	 i, off, depth = 0, end;
	int	 started = 0, scalar = 0, instr = 0, esc = 0, found = 0;
	char	 c;

	for (i = in->off; !found; ) {
		if (i == in->len) {
			if (in->eof)
				break;
			off = in->off;
			if (cli_add_fill(in) == -1)
				return (-1);
			i -= off;
			continue;
		}
		c = in->buf[i++];
		if (!started) {
			if (cli_add_space(c)) {
				if (c == '\n')
					in->line++;
				in->off = i;
				continue;
			}
			started = 1;
			scalar = c != '{' && c != '[';
		}
		if (scalar) {
			/* The space is not part of it. */
			if (cli_add_space(c)) {
				i--;
				found = 1;
			}
		} else if (instr) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				instr = 0;
		} else if (c == '"')
			instr = 1;
		else if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0)
			found = 1;
	}
	if (!started)
		return (0);
	for (end = i; !found && end > in->off &&
	    cli_add_space(in->buf[end - 1]); end--)
		continue;
	*val = in->buf + in->off;
	*len = end - in->off;
	*line = in->line;
	for (; in->off < end; in->off++) {
		if (in->buf[in->off] == '\n')
			in->line++;
	}
	if (*len > CLI_ADD_MAX_VALUE) {
		cli_common_warn("stdin:%zu: record longer than %u bytes",
		    *line, CLI_ADD_MAX_VALUE);
		return (-1);
	}
	return (1);
}

static int
cli_add_stdin(struct cli *cli)
{
	struct cli_add_state	*st;
	struct cli_add_batch	*b;
	struct cli_add_input	 in;
	json_error_t		 jerr;
	json_t			*obj;
	const char		*val;
	char			 err[256];
	size_t			 len, line, i;
	int			 rc;

	if ((st = calloc(1, sizeof *st)) == NULL) {
		cli_common_warn("out of memory");
		return (CLI_EXIT_ERROR);
	}
	st->cli = cli;
	b = &st->cur;
	memset(&in, 0, sizeof in);
	in.line = 1;
	while ((rc = cli_add_next(&in, &val, &len, &line)) == 1) {
		if ((obj = json_load_u64(val, len, JSON_REJECT_DUPLICATES,
		    &jerr)) == NULL) {
			/* jansson counts lines from the value's first. */
			cli_common_warn("stdin:%zu: %s", line +
			    (jerr.line > 1 ? (size_t)jerr.line - 1 : 0),
			    jerr.text);
			st->rc = CLI_EXIT_ERROR;
			break;
		}
		rc = json_record_decode(obj, &b->recs[b->n], err, sizeof err);
		json_decref(obj);
		if (rc != 0) {
			json_record_clear(&b->recs[b->n]);
			cli_common_warn("stdin:%zu: %s", line, err);
			st->rc = CLI_EXIT_ERROR;
			break;
		}
		b->lines[b->n++] = line;
		b->bytes += len;
		if ((b->n == CLI_ADD_BATCH || b->bytes >= CLI_ADD_BATCH_BYTES) &&
		    cli_add_flush(st) == -1)
			break;
	}
	if (rc == -1)
		st->rc = CLI_EXIT_ERROR;
	/* Send what was read only if nothing went wrong before. */
	if (st->rc == CLI_EXIT_OK)
		cli_add_flush(st);
	for (i = 0; i < b->n; i++)
		json_record_clear(&b->recs[i]);
	/* Batches already sent are written; report every one of them. */
	while (st->npending > 0 && st->rc != CLI_EXIT_CONNECT)
		cli_add_collect(st);
	free(in.buf);
	rc = st->rc;
	free(st);
	return (rc);
}

/*
 * Report the daemon's complaint about the event of the options in the
 * options' words: it names wire fields ("actors[1]: name: must not be
 * empty", "end before start"), which --actor and --end were.
 */
static void
cli_add_explain(const struct annals_event *ev, const char *msg)
{
	const struct annals_actor	*a;
	unsigned long			 i;
	char				*end;

	/* One record: "records[0]: " says nothing. */
	if (strncmp(msg, "records[0]: ", 12) == 0)
		msg += 12;
	if (strcmp(msg, "end before start") == 0 && ev->end != NULL) {
		cli_common_warn("--end %s is before --start %s", ev->end,
		    ev->start);
		return;
	}
	if (strncmp(msg, "actors[", 7) == 0) {
		errno = 0;
		i = strtoul(msg + 7, &end, 10);
		if (errno == 0 && i < ev->nactors &&
		    strncmp(end, "]: ", 3) == 0) {
			a = &ev->actors[i];
			cli_common_warn("--actor \"%s%s%s\": %s", a->name,
			    a->role != NULL ? ":" : "",
			    a->role != NULL ? a->role : "", end + 3);
			return;
		}
	}
	cli_common_warn("%s%s", msg, cli_common_hint(msg));
}

/*
 * Add --attr NAME=VALUE to attrs: VALUE as JSON if it is, else a string.
 * annals set (cli-set.c) takes the same --attr.
 */
int
cli_add_attr(json_t *attrs, const char *arg)
{
	const char	*eq;
	char		*name;
	json_t		*v;

	if ((eq = strchr(arg, '=')) == NULL || eq == arg)
		return (-1);
	if ((name = strndup(arg, eq - arg)) == NULL)
		return (-1);
	if ((v = json_load_u64(eq + 1, strlen(eq + 1), JSON_DECODE_ANY,
	    NULL)) == NULL)
		v = json_string(eq + 1);
	json_object_set_new(attrs, name, v);
	free(name);
	return (0);
}

/*
 * The actor of --actor CODE[:ROLE], as the record holds it; annals set
 * (cli-set.c) takes the same syntax for --add-actor and --rm-actor.
 */
json_t *
cli_add_actor(const char *arg)
{
	const char	*colon;

	if ((colon = strchr(arg, ':')) == NULL)
		return (json_pack("{s:s}", "name", arg));
	return (json_pack("{s:s%, s:s}", "name", arg,
	    (size_t)(colon - arg), "role", colon + 1));
}

/*
 * Whether CODE[:ROLE] has no role or a role: split at the first colon,
 * "A:" would be stored as no role and "A::" as the role ":".
 */
int
cli_add_role_ok(const char *arg)
{
	const char	*colon;

	if ((colon = strchr(arg, ':')) == NULL)
		return (1);
	return (colon[1] != '\0' && strchr(colon + 1, ':') == NULL);
}

/* A number of --lat or --lon, here and in annals set. */
int
cli_add_number(const char *s, double *d)
{
	char	*end;

	errno = 0;
	*d = strtod(s, &end);
	return (errno != 0 || end == s || *end != '\0' ? -1 : 0);
}

/* The options that set one string of the record, or of its place. */
static const struct {
	int		 ch;
	int		 in_place;
	const char	*key;
} cli_add_strings[] = {
	{ 's', 0, "start" },
	{ 'e', 0, "end" },
	{ 'y', 0, "type" },
	{ 't', 0, "title" },
	{ 'x', 0, "text" },
	{ 'S', 0, "source" },
	{ 'k', 0, "key" },
	{ 'p', 1, "name" },
	{ 'c', 1, "country" },
};

/* Set the string option ch to arg: -1 if ch is not one. */
static int
cli_add_string(json_t *rec, json_t *place, int ch, const char *arg)
{
	size_t	i;

	for (i = 0; i < sizeof cli_add_strings / sizeof cli_add_strings[0];
	    i++) {
		if (cli_add_strings[i].ch == ch) {
			json_object_set_new(cli_add_strings[i].in_place ?
			    place : rec, cli_add_strings[i].key,
			    json_string(arg));
			return (0);
		}
	}
	return (-1);
}

/* The options that must be given, or given together. */
static int
cli_add_check(json_t *rec, json_t *place)
{
	const struct cli_command	*cmd = &cli_add_command;

	if (json_object_get(rec, "start") == NULL)
		return (cli_common_usage(cmd, "--start is required"));
	if (json_array_size(json_object_get(rec, "actors")) == 0)
		return (cli_common_usage(cmd, "at least one --actor is "
		    "required"));
	if (json_object_get(rec, "title") == NULL)
		return (cli_common_usage(cmd, "--title is required"));
	if ((json_object_get(rec, "source") == NULL) !=
	    (json_object_get(rec, "key") == NULL))
		return (cli_common_usage(cmd, "--source and --key go "
		    "together"));
	if (json_object_get(place, "lat") != json_object_get(place, "lon") &&
	    (json_object_get(place, "lat") == NULL ||
	    json_object_get(place, "lon") == NULL))
		return (cli_common_usage(cmd, "--lat and --lon go together"));
	return (0);
}

/* Empty lists and maps are absent, as on the wire. */
static void
cli_add_drop_empty(json_t *rec)
{
	static const char *const	 names[] = {
		"place", "urls", "tags", "attrs"
	};
	json_t				*v;
	size_t				 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		v = json_object_get(rec, names[i]);
		if (json_is_object(v) ? json_object_size(v) == 0 :
		    json_array_size(v) == 0)
			json_object_del(rec, names[i]);
	}
}

/* Build the record of the options into rec, or return a usage error. */
static int
cli_add_options(int argc, char **argv, json_t *rec)
{
	const struct cli_command	*cmd = &cli_add_command;
	json_t				*actors, *urls, *tags, *place, *attrs;
	double				 d;
	int				 ch, rc;

	actors = json_array();
	urls = json_array();
	tags = json_array();
	place = json_object();
	attrs = json_object();
	json_object_set_new(rec, "actors", actors);
	json_object_set_new(rec, "urls", urls);
	json_object_set_new(rec, "tags", tags);
	json_object_set_new(rec, "place", place);
	json_object_set_new(rec, "attrs", attrs);
	while ((ch = getopt_long(argc, argv, "h", cli_add_longopts,
	    NULL)) != -1) {
		if (cli_add_string(rec, place, ch, optarg) == 0)
			continue;
		switch (ch) {
		case 'a':
			if (!cli_add_role_ok(optarg))
				return (cli_common_usage(cmd, "--actor \"%s\": "
				    "a role must not be empty or hold ':'",
				    optarg));
			json_array_append_new(actors, cli_add_actor(optarg));
			break;
		case 'L':
		case 'O':
			if (cli_add_number(optarg, &d) == -1)
				return (cli_common_usage(cmd, "--%s %s: not a "
				    "number", ch == 'L' ? "lat" : "lon",
				    optarg));
			json_object_set_new(place, ch == 'L' ? "lat" : "lon",
			    json_real(d));
			break;
		case 'u':
			json_array_append_new(urls, json_string(optarg));
			break;
		case 'g':
			json_array_append_new(tags, json_string(optarg));
			break;
		case 'A':
			if (cli_add_attr(attrs, optarg) == -1)
				return (cli_common_usage(cmd, "--attr %s: not "
				    "NAME=VALUE", optarg));
			break;
		case 'h':
			cli_common_help(cmd);
			return (-1);
		default:
			return (cli_common_badopt(cmd));
		}
	}
	if (optind != argc)
		return (cli_common_usage(cmd, "unexpected argument \"%s\"",
		    argv[optind]));
	if ((rc = cli_add_check(rec, place)) != 0)
		return (rc);
	cli_add_drop_empty(rec);
	return (0);
}

static int
cli_add_exec(struct cli *cli, int argc, char **argv)
{
	struct json_record		 r;
	struct annals_put_result	 res;
	json_t				*rec;
	char				 err[256];
	int				 rc;

	if (argc == 2 && strcmp(argv[1], "-") == 0) {
		if ((rc = cli_common_connect(cli)) != 0)
			return (rc);
		return (cli_add_stdin(cli));
	}
	if ((rec = json_object()) == NULL) {
		cli_common_warn("out of memory");
		return (CLI_EXIT_ERROR);
	}
	if ((rc = cli_add_options(argc, argv, rec)) != 0) {
		json_decref(rec);
		return (rc == -1 ? CLI_EXIT_OK : rc);
	}
	rc = json_record_decode(rec, &r, err, sizeof err);
	json_decref(rec);
	if (rc != 0) {
		json_record_clear(&r);
		cli_common_warn("%s", err);
		return (CLI_EXIT_USAGE);
	}
	if ((rc = cli_common_connect(cli)) == 0) {
		if (annals_put(cli->ctx, &r.ev, 1, &res) == -1) {
			cli_add_explain(&r.ev, annals_errmsg(cli->ctx));
			rc = cli_common_exit(annals_errcode(cli->ctx));
		} else if (output_put(cli->format, stdout, 1, &res) == -1)
			rc = CLI_EXIT_ERROR;
	}
	json_record_clear(&r);
	return (rc);
}
