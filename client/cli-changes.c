/*
 * annals changes: the change feed after a sequence number, in the
 * formats of range: JSON lines {"seq", "op", "id", and the record's keys
 * for a put}, CSV (seq and op before the columns of an event) or a table
 * of seq, op, id, start and title, printed as the changes come so that
 * --follow shows them at once.  --follow subscribes and then waits for
 * the daemon's notifications until interrupted.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int	cli_changes_exec(struct cli *, int, char **);

static const struct option cli_changes_longopts[] = {
	{ "since",	required_argument,	NULL, 's' },
	{ "limit",	required_argument,	NULL, 'l' },
	{ "follow",	no_argument,		NULL, 'f' },
	{ "fields",	required_argument,	NULL, 'F' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

const struct cli_command cli_changes_command = {
	"changes",
	"[--since SEQ] [--limit N] [--follow | --fields KEY,...]",
	cli_changes_exec,
	cli_changes_longopts
};

struct cli_changes {
	int			 format;
	unsigned long long	 limit;		/* 0: no limit */
	unsigned long long	 printed;
	int			 started;	/* the CSV or table header */
	int			 failed;
	int			 cut;		/* a change past the limit came */
	uint64_t		 last;		/* seq of the last printed */
};

/* The CSV of an event alone (header or row), without its newline. */
static char *
cli_changes_csv(const struct annals_event *ev, int header)
{
	struct output	*out;
	FILE		*fp;
	char		*buf = NULL, *nl;
	size_t		 size = 0;

	if ((fp = open_memstream(&buf, &size)) == NULL)
		return (NULL);
	if ((out = output_new(OUTPUT_CSV, fp, 0)) != NULL) {
		output_event(out, ev, NULL);
		output_end(out);
		output_free(out);
	}
	fclose(fp);
	if (buf == NULL)
		return (NULL);
	/* The header line has no quotes: the first newline ends it. */
	if ((nl = strchr(buf, '\n')) == NULL) {
		free(buf);
		return (NULL);
	}
	if (header)
		*nl = '\0';
	else {
		memmove(buf, nl + 1, strlen(nl + 1) + 1);
		if (size > 0 && (nl = strrchr(buf, '\n')) != NULL &&
		    nl[1] == '\0')
			*nl = '\0';
	}
	return (buf);
}

/* The CSV or table header, once; -1 when out of memory. */
static int
cli_changes_header(struct cli_changes *st)
{
	struct annals_event	 none;
	char			*text;

	if (st->started)
		return (0);
	st->started = 1;
	switch (st->format) {
	case OUTPUT_TABLE:
		printf("%10s  %-6s  %10s  %-24s  %s\n", "SEQ", "OP", "ID",
		    "START", "TITLE");
		break;
	case OUTPUT_CSV:
		memset(&none, 0, sizeof none);
		if ((text = cli_changes_csv(&none, 1)) == NULL)
			return (-1);
		printf("seq,op,%s\n", text);
		free(text);
		break;
	}
	return (0);
}

static int
cli_changes_print(const struct annals_change *ch, void *arg)
{
	struct cli_changes		*st = arg;
	struct annals_event		 none;
	const struct annals_event	*ev = ch->event;
	const char			*op, *key;
	json_t				*o, *rec, *v;
	char				 err[256], *text, *p;
	int				 commas;

	if (st->limit != 0 && st->printed == st->limit) {
		st->cut = 1;
		return (1);
	}
	op = change_op_name(ch->op);
	memset(&none, 0, sizeof none);
	none.id = ch->id;
	if (cli_changes_header(st) == -1)
		goto nomem;
	switch (st->format) {
	case OUTPUT_TABLE:
		printf("%10llu  %-6s  %10llu  %-24s  %s\n",
		    (unsigned long long)ch->seq, op,
		    (unsigned long long)ch->id,
		    ev != NULL && ev->start != NULL ? ev->start : "",
		    ev != NULL && ev->title != NULL ? ev->title : "");
		break;
	case OUTPUT_CSV:
		if (ev != NULL) {
			if ((text = cli_changes_csv(ev, 0)) == NULL)
				goto nomem;
			printf("%llu,%s,%s\n", (unsigned long long)ch->seq, op,
			    text);
		} else {
			/* The id, then as many empty columns as a put has. */
			if ((text = cli_changes_csv(&none, 1)) == NULL)
				goto nomem;
			for (commas = 0, p = text; *p != '\0'; p++)
				commas += *p == ',';
			printf("%llu,%s,%llu", (unsigned long long)ch->seq, op,
			    (unsigned long long)ch->id);
			while (commas-- > 0)
				putchar(',');
			putchar('\n');
		}
		free(text);
		break;
	default:
		o = json_object();
		json_object_set_new(o, "seq", json_integer((json_int_t)ch->seq));
		json_object_set_new(o, "op", json_string(op));
		json_object_set_new(o, "id", json_integer((json_int_t)ch->id));
		if (ev != NULL) {
			if ((rec = json_record_encode(ev, 0, err,
			    sizeof err)) == NULL) {
				json_decref(o);
				cli_common_warn("change %llu: %s",
				    (unsigned long long)ch->seq, err);
				st->failed = 1;
				return (1);
			}
			json_object_foreach(rec, key, v) {
				if (strcmp(key, "id") != 0)
					json_object_set(o, key, v);
			}
			json_decref(rec);
		}
		if (json_record_write(stdout, o) == -1)
			st->failed = 1;
		json_decref(o);
		break;
	}
	st->printed++;
	st->last = ch->seq;
	/* Follow mode: show each change as it comes. */
	fflush(stdout);
	return (st->failed || ferror(stdout));
nomem:
	cli_common_warn("out of memory");
	st->failed = 1;
	return (1);
}

static int
cli_changes_exec(struct cli *cli, int argc, char **argv)
{
	const struct cli_command	*cmd = &cli_changes_command;
	struct cli_changes		 st;
	struct annals_feed		 feed;
	unsigned long long		 v;
	uint64_t			 since = 0;
	const char			*fields = NULL;
	char				*end;
	int				 ch, follow = 0, r;

	memset(&st, 0, sizeof st);
	st.format = cli->format;
	while ((ch = getopt_long(argc, argv, "h", cli_changes_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
		case 'l':
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || *optarg < '0' ||
			    *optarg > '9' || (ch == 'l' && v == 0))
				return (cli_common_usage(cmd, "--%s %s: not a "
				    "number", ch == 's' ? "since" : "limit",
				    optarg));
			if (ch == 's')
				since = v;
			else
				st.limit = v;
			break;
		case 'f':
			follow = 1;
			break;
		case 'F':
			fields = optarg;
			break;
		case 'h':
			return (cli_common_help(cmd));
		default:
			return (cli_common_badopt(cmd));
		}
	}
	if (optind != argc)
		return (cli_common_usage(cmd, "unexpected argument \"%s\"",
		    argv[optind]));
	/* Notifications carry whole events (PROTOCOL.md, subscribe). */
	if (follow && fields != NULL)
		return (cli_common_usage(cmd, "--fields and --follow exclude "
		    "each other"));
	if ((r = cli_common_connect(cli)) != 0)
		return (r);

	if (!follow) {
		/* Page through to the end of the log as it is now. */
		for (;;) {
			if (annals_changes_fields(cli->ctx, since, 0, fields,
			    cli_changes_print, &st, &feed) == -1)
				return (cli_common_fail(cli, NULL));
			if (st.failed)
				return (CLI_EXIT_ERROR);
			if (st.limit != 0 && st.printed == st.limit) {
				if (feed.more)
					st.cut = 1;
				break;
			}
			if (!feed.more)
				break;
			since = feed.next;
		}
		/* No change: the header, and for a person "no changes". */
		if (!st.started && st.format != OUTPUT_JSONL) {
			if (cli_changes_header(&st) == -1) {
				cli_common_warn("out of memory");
				return (CLI_EXIT_ERROR);
			}
			if (st.format == OUTPUT_TABLE)
				printf("no changes\n");
		}
		if (st.cut)
			return (cli_common_cut(cli, st.limit, "change",
			    "--limit N or --since SEQ"));
		return (CLI_EXIT_OK);
	}
	if (annals_subscribe(cli->ctx, since, NULL) == -1)
		return (cli_common_fail(cli, NULL));
	while (st.limit == 0 || st.printed < st.limit) {
		r = annals_notification_next(cli->ctx, -1, cli_changes_print,
		    &st, &feed);
		if (r == -1)
			return (cli_common_fail(cli, NULL));
		if (st.failed)
			return (CLI_EXIT_ERROR);
	}
	return (CLI_EXIT_OK);
}
