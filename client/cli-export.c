/*
 * annals export: every event, or those of a range and filters, in the
 * record's own shape.  JSON lines carry the record exactly (without the
 * "match" of range), so "annals export | annals import -" into an empty
 * daemon gives the same events back, new ids aside.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Events per page: a page of 1000 is well under the frame limit. */
#define CLI_EXPORT_PAGE	1000

static int	cli_export_exec(struct cli *, int, char **);

static const struct option cli_export_longopts[] = {
	CLI_FILTER_OPTIONS,
	{ "format",	required_argument,	NULL, 'f' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

const struct cli_command cli_export_command = {
	"export",
	"[FROM TO] [--actor CODE] " CLI_FILTER_USAGE "\n"
	"             [--format jsonl|csv|timelinejs]",
	cli_export_exec,
	cli_export_longopts
};

/*
 * Parse the options into q and *format, the actor and role into f; 0,
 * -1 for --help, or a status.
 */
static int
cli_export_args(struct cli *cli, int argc, char **argv, annals_query *q,
    struct cli_filter *f, int *format)
{
	const struct cli_command	*cmd = &cli_export_command;
	int				 ch, code;

	memset(f, 0, sizeof *f);
	while ((ch = getopt_long(argc, argv, "h", cli_export_longopts,
	    NULL)) != -1) {
		code = 0;
		switch (ch) {
		case 'a':
		CLI_FILTER_CASES:
			if ((code = cli_common_filter(cmd, q, ch, optarg,
			    f)) == -1)
				return (CLI_EXIT_USAGE);
			break;
		case 'f':
			if (strcmp(optarg, "jsonl") == 0)
				*format = OUTPUT_JSONL;
			else if (strcmp(optarg, "csv") == 0)
				*format = OUTPUT_CSV;
			else if (strcmp(optarg, "timelinejs") == 0)
				*format = OUTPUT_TIMELINEJS;
			else
				return (cli_common_usage(cmd, "--format %s: "
				    "not jsonl, csv or timelinejs", optarg));
			break;
		case 'h':
			cli_common_help(cmd);
			return (-1);
		default:
			return (cli_common_badopt(cmd));
		}
		if (code != 0)
			return (cli_common_usage(cmd, "%s: %s", argv[optind - 1],
			    annals_strerror(code)));
	}
	if (f->role != NULL && f->actor == NULL)
		return (cli_common_usage(cmd, "--role needs --actor"));
	argc -= optind;
	argv += optind;
	if (argc != 0 && argc != 2)
		return (cli_common_usage(cmd, "expected FROM and TO, or "
		    "neither"));
	if (argc == 2) {
		cli->from = argv[0];
		cli->to = argv[1];
	}
	code = annals_query_set_range(q, argc == 2 ? argv[0] : NULL,
	    argc == 2 ? argv[1] : NULL);
	if (code == 0)
		code = annals_query_set_actor(q, f->actor, f->role);
	if (code == 0)
		code = annals_query_set_page_size(q, CLI_EXPORT_PAGE);
	if (code != 0)
		return (cli_common_usage(cmd, "query: %s",
		    annals_strerror(code)));
	return (0);
}

static int
cli_export_exec(struct cli *cli, int argc, char **argv)
{
	const struct annals_event	*ev;
	struct output			*out = NULL;
	struct timelinejs		*tl = NULL;
	struct cli_filter		 f;
	struct cli_case			 c;
	annals_query			*q;
	annals_iter			*it = NULL;
	unsigned long long		 n = 0;
	int				 rc, format;

	/* A table is for people; an export is for import. */
	format = cli->format == OUTPUT_CSV ? OUTPUT_CSV : OUTPUT_JSONL;
	if ((q = annals_query_new()) == NULL) {
		cli_common_warn("out of memory");
		return (CLI_EXIT_ERROR);
	}
	if ((rc = cli_export_args(cli, argc, argv, q, &f, &format)) != 0) {
		annals_query_free(q);
		return (rc == -1 ? CLI_EXIT_OK : rc);
	}
	if ((rc = cli_common_connect(cli)) != 0)
		goto done;
	if ((it = annals_range(cli->ctx, q)) == NULL) {
		rc = cli_common_fail(cli, NULL);
		goto done;
	}
	if (format == OUTPUT_TIMELINEJS ? (tl = timelinejs_new(stdout)) ==
	    NULL : (out = output_new(format, stdout, 0)) == NULL) {
		cli_common_warn("out of memory");
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	while ((ev = annals_iter_next(it)) != NULL) {
		if ((tl != NULL ? timelinejs_event(tl, ev) :
		    output_event(out, ev, NULL)) == -1) {
			rc = CLI_EXIT_ERROR;
			break;
		}
		n++;
	}
	if (rc == CLI_EXIT_OK && annals_iter_error(it) != 0)
		rc = cli_common_fail(cli, NULL);
	if ((tl != NULL ? timelinejs_end(tl) : output_end(out)) == -1 &&
	    rc == CLI_EXIT_OK)
		rc = CLI_EXIT_ERROR;
	tl = NULL;
	if (rc == CLI_EXIT_OK && n == 0) {
		c.q = q;
		c.role = f.role;
		c.actor = 0;
		cli_common_case_hint(cli, f.actor, 0, cli_common_case_events,
		    &c);
	}
done:
	timelinejs_end(tl);
	output_free(out);
	annals_iter_free(it);
	annals_query_free(q);
	return (rc);
}
