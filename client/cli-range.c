/*
 * annals range and annals actor: events in a date range, or of one actor,
 * with filters.  --limit counts the events printed in all, not a page:
 * the iterator fetches pages from the daemon as the output needs them.
 * An actor that names an alias prints, with each event, the code it was
 * found under (its via).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Events printed unless --limit or --all says otherwise. */
#define CLI_RANGE_LIMIT		100
/* Events per page when no limit makes a smaller page enough. */
#define CLI_RANGE_PAGE		1000

static int	cli_range_exec(struct cli *, int, char **);

#define CLI_RANGE_FILTERS						\
	CLI_FILTER_USAGE "\n"						\
	"             [--limit N | --all] [--desc] [--fields KEY,...]"

static const struct option cli_range_longopts[] = {
	CLI_FILTER_OPTIONS,
	{ "limit",	required_argument,	NULL, 'l' },
	{ "all",	no_argument,		NULL, 'A' },
	{ "desc",	no_argument,		NULL, 'd' },
	{ "fields",	required_argument,	NULL, 'F' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

const struct cli_command cli_range_command = {
	"range",
	"FROM TO [--actor CODE] " CLI_RANGE_FILTERS,
	cli_range_exec,
	cli_range_longopts
};

const struct cli_command cli_actor_command = {
	"actor",
	"CODE [FROM [TO]] " CLI_RANGE_FILTERS,
	cli_range_exec,
	cli_range_longopts
};

/* Report a query setter's failure (ANNALS_E* returned) as usage. */
static int
cli_range_set(const struct cli_command *cmd, int code, const char *what)
{
	if (code == ANNALS_ENOMEM) {
		cli_common_warn("out of memory");
		return (CLI_EXIT_ERROR);
	}
	return (cli_common_usage(cmd, "%s: %s", what, annals_strerror(code)));
}

/*
 * Print the events of the query, at most limit of them (0: all); f
 * holds the actor and role the query was given.
 */
static int
cli_range_run(struct cli *cli, const struct cli_command *cmd,
    annals_query *q, const struct cli_filter *f, unsigned long long limit,
    const char *fields)
{
	const struct annals_event	*ev;
	struct output			*out;
	struct cli_case			 c;
	annals_iter			*it;
	unsigned long long		 n = 0;
	int				 rc = CLI_EXIT_OK, cut = 0;

	if ((rc = cli_common_connect(cli)) != 0)
		return (rc);
	if (cmd == &cli_actor_command)
		it = annals_actor(cli->ctx, q);
	else
		it = annals_range(cli->ctx, q);
	if (it == NULL)
		return (cli_common_fail(cli, NULL));
	if ((out = output_new(cli->format, stdout, 1)) == NULL) {
		annals_iter_free(it);
		cli_common_warn("out of memory");
		return (CLI_EXIT_ERROR);
	}
	output_fields(out, fields);
	while ((limit == 0 || n < limit) &&
	    (ev = annals_iter_next(it)) != NULL) {
		if (output_event(out, ev, annals_iter_via(it)) == -1) {
			rc = CLI_EXIT_ERROR;
			break;
		}
		n++;
	}
	if (rc == CLI_EXIT_OK && annals_iter_error(it) != 0)
		rc = cli_common_fail(cli, NULL);
	/* The page holds one event more than the limit: were there more? */
	if (rc == CLI_EXIT_OK && limit != 0 && n == limit &&
	    annals_iter_next(it) != NULL)
		cut = 1;
	if (output_end(out) == -1 && rc == CLI_EXIT_OK)
		rc = CLI_EXIT_ERROR;
	if (rc == CLI_EXIT_OK && cut)
		rc = cli_common_cut(cli, limit, "event", "--limit N or --all");
	output_free(out);
	annals_iter_free(it);
	if (rc == CLI_EXIT_OK && n == 0) {
		c.q = q;
		c.role = f->role;
		c.actor = cmd == &cli_actor_command;
		cli_common_case_hint(cli, f->actor, 0, cli_common_case_events,
		    &c);
	}
	return (rc);
}

/*
 * Parse the options and arguments of range or actor into q and limit;
 * f gets the actor and role of the query.
 */
static int
cli_range_args(struct cli *cli, int argc, char **argv, annals_query *q,
    struct cli_filter *f, unsigned long long *limit, const char **fields)
{
	const struct cli_command	*cmd = cli->cmd;
	const char			*from = NULL, *to = NULL;
	char				*end;
	int				 ch, code;
	int				 all = 0, has_limit = 0, page;

	*limit = CLI_RANGE_LIMIT;
	memset(f, 0, sizeof *f);
	while ((ch = getopt_long(argc, argv, "h", cli_range_longopts,
	    NULL)) != -1) {
		code = 0;
		switch (ch) {
		case 'a':
			if (cmd == &cli_actor_command)
				return (cli_common_usage(cmd, "the actor is "
				    "CODE, not --actor"));
			f->actor = optarg;
			break;
		CLI_FILTER_CASES:
			if ((code = cli_common_filter(cmd, q, ch, optarg,
			    f)) == -1)
				return (CLI_EXIT_USAGE);
			break;
		case 'l':
			errno = 0;
			*limit = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || *limit == 0 ||
			    optarg[0] < '0' || optarg[0] > '9')
				return (cli_common_usage(cmd, "--limit %s: not "
				    "a positive number", optarg));
			has_limit = 1;
			break;
		case 'A':
			all = 1;
			break;
		case 'd':
			code = annals_query_set_desc(q, 1);
			break;
		case 'F':
			if (annals_query_set_fields(q, optarg) != 0)
				return (cli_common_usage(cmd, "--fields %s: "
				    "not a list of distinct keys of an event",
				    optarg));
			*fields = optarg;
			break;
		case 'h':
			cli_common_help(cmd);
			return (-1);
		default:
			return (cli_common_badopt(cmd));
		}
		if (code != 0)
			return (cli_range_set(cmd, code, argv[optind - 1]));
	}
	if (all && has_limit)
		return (cli_common_usage(cmd, "--limit and --all exclude each "
		    "other"));
	if (all)
		*limit = 0;
	argc -= optind;
	argv += optind;
	if (cmd == &cli_actor_command) {
		if (argc < 1 || argc > 3)
			return (cli_common_usage(cmd, "expected CODE [FROM "
			    "[TO]]"));
		f->actor = argv[0];
		from = argc > 1 ? argv[1] : NULL;
		to = argc > 2 ? argv[2] : NULL;
	} else {
		if (argc != 2)
			return (cli_common_usage(cmd, "expected FROM and TO"));
		from = argv[0];
		to = argv[1];
	}
	if (f->role != NULL && f->actor == NULL)
		return (cli_common_usage(cmd, "--role needs an actor"));
	cli->from = from;
	cli->to = to;
	if ((code = annals_query_set_range(q, from, to)) != 0 ||
	    (code = annals_query_set_actor(q, f->actor, f->role)) != 0)
		return (cli_range_set(cmd, code, "query"));
	/* One event more than asked for tells whether there are more. */
	page = CLI_RANGE_PAGE;
	if (*limit != 0 && *limit < CLI_RANGE_PAGE)
		page = (int)*limit + 1;
	if ((code = annals_query_set_page_size(q, page)) != 0)
		return (cli_range_set(cmd, code, "page size"));
	return (0);
}

static int
cli_range_exec(struct cli *cli, int argc, char **argv)
{
	const struct cli_command	*cmd;
	struct cli_filter		 f;
	annals_query			*q;
	unsigned long long		 limit;
	const char			*fields = NULL;
	int				 rc;

	cmd = cli->cmd;
	if ((q = annals_query_new()) == NULL) {
		cli_common_warn("out of memory");
		return (CLI_EXIT_ERROR);
	}
	rc = cli_range_args(cli, argc, argv, q, &f, &limit, &fields);
	if (rc == 0)
		rc = cli_range_run(cli, cmd, q, &f, limit, fields);
	else if (rc == -1)
		rc = CLI_EXIT_OK;
	annals_query_free(q);
	return (rc);
}
