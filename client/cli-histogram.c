/*
 * annals histogram, annals top and annals co-actors: counts the daemon
 * makes without sending the events.  A histogram is a table, or on a
 * terminal a bar chart; the actor lists are tables of name and count.
 * JSON lines and CSV give one bucket or actor per line.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int	cli_histogram_exec(struct cli *, int, char **);

static const struct option cli_histogram_longopts[] = {
	{ "by",		required_argument,	NULL, 'b' },
	{ "count",	required_argument,	NULL, 'n' },
	CLI_FILTER_OPTIONS,
	{ "limit",	required_argument,	NULL, 'l' },
	{ "prefix",	required_argument,	NULL, 'P' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

const struct cli_command cli_histogram_command = {
	"histogram",
	"FROM TO [--by day|week|month|year] [--count overlap|start]\n"
	"             [--actor CODE] " CLI_FILTER_USAGE,
	cli_histogram_exec,
	cli_histogram_longopts
};

const struct cli_command cli_top_command = {
	"top",
	"FROM TO [--limit N] [--prefix P] " CLI_FILTER_USAGE,
	cli_histogram_exec,
	cli_histogram_longopts
};

const struct cli_command cli_co_actors_command = {
	"co-actors",
	"CODE FROM TO [--limit N] " CLI_FILTER_USAGE,
	cli_histogram_exec,
	cli_histogram_longopts
};

/* Widest a bar chart gets when the terminal does not say. */
#define CLI_HISTOGRAM_COLUMNS	80

struct cli_agg_args {
	int		 by;		/* ANNALS_BY_* */
	int		 mode;		/* ANNALS_COUNT_* */
	uint32_t	 limit;
	const char	*prefix;	/* top: only these names */
	struct cli_filter f;		/* the actor (CODE, --actor), role */
};

/* What the case hint of an aggregation asks again: q, for a's actor. */
struct cli_agg_hint {
	annals_query			*q;
	const struct cli_agg_args	*a;
};

static int
cli_agg_set(const struct cli_command *cmd, int code, const char *what)
{
	if (code == ANNALS_ENOMEM) {
		cli_common_warn("out of memory");
		return (CLI_EXIT_ERROR);
	}
	return (cli_common_usage(cmd, "%s: %s", what, annals_strerror(code)));
}

/*
 * Take one option into q and a.  Returns 0 to go on, -1 after --help,
 * or the status to exit with; opt is the option as written.
 */
static int
cli_agg_option(const struct cli_command *cmd, int ch, const char *opt,
    annals_query *q, struct cli_agg_args *a)
{
	char				*end;
	unsigned long			 v;
	int				 code = 0;

	/* Each command takes only its own options. */
	if ((cmd != &cli_histogram_command &&
	    (ch == 'b' || ch == 'n' || ch == 'a')) ||
	    (cmd == &cli_histogram_command && ch == 'l') ||
	    (cmd != &cli_top_command && ch == 'P') ||
	    (cmd == &cli_top_command && ch == 'r'))
		return (cli_common_usage(cmd, "%s: not an option of %s", opt,
		    cmd->name));
	switch (ch) {
	case 'b':
		if (date_by_parse(optarg, &a->by) != 0)
			return (cli_common_usage(cmd, "--by %s: not day, "
			    "week, month or year", optarg));
		break;
	case 'n':
		if (strcmp(optarg, "overlap") == 0)
			a->mode = ANNALS_COUNT_OVERLAP;
		else if (strcmp(optarg, "start") == 0)
			a->mode = ANNALS_COUNT_START;
		else
			return (cli_common_usage(cmd, "--count %s: not "
			    "overlap or start", optarg));
		break;
	case 'a':
	CLI_FILTER_CASES:
		if ((code = cli_common_filter(cmd, q, ch, optarg, &a->f)) == -1)
			return (CLI_EXIT_USAGE);
		break;
	case 'l':
		errno = 0;
		v = strtoul(optarg, &end, 10);
		if (errno != 0 || *end != '\0' || v == 0 || v > 10000 ||
		    optarg[0] < '0' || optarg[0] > '9')
			return (cli_common_usage(cmd, "--limit %s: not a "
			    "number from 1 to 10000", optarg));
		a->limit = (uint32_t)v;
		break;
	case 'P':
		a->prefix = optarg;
		break;
	case 'h':
		cli_common_help(cmd);
		return (-1);
	default:
		return (cli_common_badopt(cmd));
	}
	return (code != 0 ? cli_agg_set(cmd, code, opt) : 0);
}

/*
 * The operands ([CODE] FROM TO), with the actor the options leave in
 * a->f; CODE goes there too.
 */
static int
cli_agg_operands(struct cli *cli, int argc, char **argv, annals_query *q,
    struct cli_agg_args *a)
{
	const struct cli_command	*cmd = cli->cmd;
	const char			*actor, *role = a->f.role;
	static char			 star[136];
	int				 code;

	if (cmd == &cli_co_actors_command) {
		if (argc != 3)
			return (cli_common_usage(cmd, "expected CODE, FROM and "
			    "TO"));
		a->f.actor = argv[0];
		argc--;
		argv++;
	} else if (argc != 2)
		return (cli_common_usage(cmd, "expected FROM and TO"));
	actor = a->f.actor;
	if (role != NULL && actor == NULL)
		return (cli_common_usage(cmd, "--role needs an actor"));
	if (a->prefix != NULL) {
		/* libannals asks top_actors for a prefix as "P*". */
		if (*a->prefix == '\0' || strlen(a->prefix) > 128)
			return (cli_common_usage(cmd, "--prefix: 1 to 128 "
			    "bytes"));
		snprintf(star, sizeof star, "%s*", a->prefix);
		actor = star;
	}
	cli->from = argv[0];
	cli->to = argv[1];
	if ((code = annals_query_set_range(q, argv[0], argv[1])) != 0 ||
	    (code = annals_query_set_actor(q, actor, role)) != 0)
		return (cli_agg_set(cmd, code, "query"));
	return (0);
}

/* Parse options and arguments into q and a; -1 after --help. */
static int
cli_agg_args(struct cli *cli, int argc, char **argv, annals_query *q,
    struct cli_agg_args *a)
{
	int	ch, rc;

	a->by = ANNALS_BY_MONTH;
	a->mode = ANNALS_COUNT_OVERLAP;
	a->limit = 10;
	a->prefix = NULL;
	memset(&a->f, 0, sizeof a->f);
	while ((ch = getopt_long(argc, argv, "h", cli_histogram_longopts,
	    NULL)) != -1) {
		if ((rc = cli_agg_option(cli->cmd, ch, argv[optind - 1], q,
		    a)) != 0)
			return (rc);
	}
	return (cli_agg_operands(cli, argc - optind, argv + optind, q, a));
}

/* Write s as one CSV field. */
static void
cli_agg_csv(FILE *fp, const char *s)
{
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

/* Write s as a JSON string. */
static void
cli_agg_json(FILE *fp, const char *s)
{
	json_t	*j;
	char	*text;

	if ((j = json_string(s)) == NULL ||
	    (text = json_dumps(j, JSON_ENCODE_ANY)) == NULL) {
		json_decref(j);
		fputs("null", fp);
		return;
	}
	fputs(text, fp);
	free(text);
	json_decref(j);
}

/* The terminal's width, or CLI_HISTOGRAM_COLUMNS. */
static int
cli_histogram_columns(void)
{
	struct winsize	 ws;
	const char	*env;
	int		 n;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
		return (ws.ws_col);
	if ((env = getenv("COLUMNS")) != NULL && (n = atoi(env)) > 20)
		return (n);
	return (CLI_HISTOGRAM_COLUMNS);
}

/* Whether the terminal takes UTF-8, for block characters. */
static int
cli_histogram_utf8(void)
{
	const char	*env;

	if ((env = getenv("LC_ALL")) == NULL || *env == '\0')
		if ((env = getenv("LC_CTYPE")) == NULL || *env == '\0')
			env = getenv("LANG");
	return (env != NULL && (strstr(env, "UTF-8") != NULL ||
	    strstr(env, "utf8") != NULL));
}

/* One bar of width w in eighths of a cell. */
static void
cli_histogram_bar(FILE *fp, uint64_t eighths, int utf8)
{
	static const char *const parts[] = { "", "\u258f", "\u258e",
	    "\u258d", "\u258c", "\u258b", "\u258a", "\u2589" };
	uint64_t		 i;

	for (i = 0; i < eighths / 8; i++)
		fputs(utf8 ? "\u2588" : "#", fp);
	if (utf8)
		fputs(parts[eighths % 8], fp);
	else if (eighths % 8 >= 4)
		putc('#', fp);
}

static void
cli_histogram_print(struct cli *cli, const struct annals_histogram *h)
{
	uint64_t	max = 0;
	size_t		i, lw = 5, cw = 5, len;
	char		num[32];
	int		width, utf8;

	for (i = 0; i < h->nbuckets; i++) {
		if (h->buckets[i].count > max)
			max = h->buckets[i].count;
		if ((len = strlen(h->buckets[i].start)) > lw)
			lw = len;
		if ((len = (size_t)snprintf(num, sizeof num, "%llu",
		    (unsigned long long)h->buckets[i].count)) > cw)
			cw = len;
	}
	switch (cli->format) {
	case OUTPUT_JSONL:
		for (i = 0; i < h->nbuckets; i++) {
			fputs("{\"start\":", stdout);
			cli_agg_json(stdout, h->buckets[i].start);
			printf(",\"time\":%lld,\"count\":%llu}\n",
			    (long long)h->buckets[i].time,
			    (unsigned long long)h->buckets[i].count);
		}
		return;
	case OUTPUT_CSV:
		printf("start,count\n");
		for (i = 0; i < h->nbuckets; i++)
			printf("%s,%llu\n", h->buckets[i].start,
			    (unsigned long long)h->buckets[i].count);
		return;
	}
	printf("%-*s  %*s\n", (int)lw, "START", (int)cw, "COUNT");
	width = cli_histogram_columns() - (int)(lw + cw + 5);
	utf8 = cli_histogram_utf8();
	for (i = 0; i < h->nbuckets; i++) {
		printf("%-*s  %*llu", (int)lw, h->buckets[i].start, (int)cw,
		    (unsigned long long)h->buckets[i].count);
		/* Bars only for a person, not for a pipe reading a table. */
		if (isatty(STDOUT_FILENO) && max > 0 && width > 0) {
			fputs("  ", stdout);
			cli_histogram_bar(stdout, h->buckets[i].count *
			    (uint64_t)width * 8 / max, utf8);
		}
		putchar('\n');
	}
	printf("%llu event%s in %zu bucket%s\n", (unsigned long long)h->total,
	    h->total == 1 ? "" : "s", h->nbuckets, h->nbuckets == 1 ? "" : "s");
}

/* The first n actors of c (n is at most c->nactors). */
static void
cli_actors_print(struct cli *cli, const struct annals_actor_counts *c,
    size_t n, int co)
{
	size_t	i, nw = 5, len;

	switch (cli->format) {
	/* co-actors: every line carries the actor's events, the whole. */
	case OUTPUT_JSONL:
		for (i = 0; i < n; i++) {
			fputs("{\"name\":", stdout);
			cli_agg_json(stdout, c->actors[i].name);
			printf(",\"count\":%llu",
			    (unsigned long long)c->actors[i].count);
			if (co)
				printf(",\"events\":%llu",
				    (unsigned long long)c->events);
			printf("}\n");
		}
		return;
	case OUTPUT_CSV:
		printf(co ? "name,count,events\n" : "name,count\n");
		for (i = 0; i < n; i++) {
			cli_agg_csv(stdout, c->actors[i].name);
			printf(",%llu", (unsigned long long)c->actors[i].count);
			if (co)
				printf(",%llu", (unsigned long long)c->events);
			putchar('\n');
		}
		return;
	}
	for (i = 0; i < n; i++) {
		if ((len = strlen(c->actors[i].name)) > nw)
			nw = len;
	}
	printf("%-*s  %s\n", (int)nw, "ACTOR", "EVENTS");
	for (i = 0; i < n; i++)
		printf("%-*s  %llu\n", (int)nw, c->actors[i].name,
		    (unsigned long long)c->actors[i].count);
	if (n == 0)
		printf("no actors\n");
	if (co)
		printf("(of %llu event%s of the actor)\n",
		    (unsigned long long)c->events, c->events == 1 ? "" : "s");
}

/*
 * A found() for the case hint of the aggregations: whether they count
 * an event for the code upper (of an actor starting with upper, for
 * top).  co-actors counts the events of the actor query with the same
 * filters, histogram by overlap those of the range query, top the
 * actors with its prefix in the events of the range query by "PREFIX*",
 * so a page of one event of that query tells.  By start, histogram
 * leaves out the events that start before FROM, which range finds, so
 * the histogram itself is asked again, by year, the fewest buckets.
 */
static int
cli_agg_found(struct cli *cli, const char *upper, void *arg)
{
	struct cli_agg_hint	*ah = arg;
	struct annals_histogram	*h;
	struct cli_case		 c;
	char			 star[136];
	int			 found;

	if (cli->cmd == &cli_histogram_command &&
	    ah->a->mode == ANNALS_COUNT_START) {
		if (annals_query_set_actor(ah->q, upper, ah->a->f.role) != 0 ||
		    annals_histogram(cli->ctx, ah->q, ANNALS_BY_YEAR,
		    ANNALS_COUNT_START, &h) == -1)
			return (0);
		found = h->total > 0;
		annals_histogram_free(h);
		return (found);
	}
	if (cli->cmd == &cli_top_command) {
		/* As cli_agg_operands() asks: the prefix is 1 to 128 bytes. */
		snprintf(star, sizeof star, "%s*", upper);
		upper = star;
	}
	c.q = ah->q;
	c.role = ah->a->f.role;
	c.actor = cli->cmd == &cli_co_actors_command;
	return (cli_common_case_events(cli, upper, &c));
}

static int
cli_agg_run(struct cli *cli, const struct cli_command *cmd, annals_query *q,
    const struct cli_agg_args *a)
{
	struct annals_histogram		*h;
	struct annals_actor_counts	*c;
	struct cli_agg_hint		 ah;
	uint32_t			 ask;
	int				 rc, cut, empty;

	if ((rc = cli_common_connect(cli)) != 0)
		return (rc);
	ah.q = q;
	ah.a = a;
	if (cmd == &cli_histogram_command) {
		if (annals_histogram(cli->ctx, q, a->by, a->mode, &h) == -1)
			return (cli_common_fail(cli, cmd->name));
		cli_histogram_print(cli, h);
		empty = h->total == 0;
		annals_histogram_free(h);
		if (empty)
			cli_common_case_hint(cli, a->f.actor, 0, cli_agg_found,
			    &ah);
		return (CLI_EXIT_OK);
	}
	/*
	 * One actor more than the limit tells whether the list was cut;
	 * at the daemon's limit of 10000 that cannot be asked for.
	 */
	ask = a->limit < 10000 ? a->limit + 1 : a->limit;
	if (cmd == &cli_top_command)
		rc = annals_top_actors(cli->ctx, q, ask, &c);
	else
		rc = annals_co_actors(cli->ctx, q, ask, &c);
	if (rc == -1)
		return (cli_common_fail(cli, cmd->name));
	cut = c->nactors > a->limit;
	cli_actors_print(cli, c, cut ? a->limit : c->nactors,
	    cmd == &cli_co_actors_command);
	/*
	 * Without events of the actor (or of any actor with the prefix
	 * of top): nothing counted, nothing cut.
	 */
	empty = cmd == &cli_co_actors_command ? c->events == 0 :
	    c->nactors == 0;
	annals_actor_counts_free(c);
	if (cut)
		return (cli_common_cut(cli, a->limit, "actor", "--limit N"));
	if (empty && cmd == &cli_co_actors_command)
		cli_common_case_hint(cli, a->f.actor, 0, cli_agg_found, &ah);
	else if (empty)
		cli_common_case_hint(cli, a->prefix, 1, cli_agg_found, &ah);
	return (CLI_EXIT_OK);
}

static int
cli_histogram_exec(struct cli *cli, int argc, char **argv)
{
	const struct cli_command	*cmd;
	struct cli_agg_args		 a;
	annals_query			*q;
	int				 rc;

	cmd = cli->cmd;
	if ((q = annals_query_new()) == NULL) {
		cli_common_warn("out of memory");
		return (CLI_EXIT_ERROR);
	}
	rc = cli_agg_args(cli, argc, argv, q, &a);
	if (rc == 0)
		rc = cli_agg_run(cli, cmd, q, &a);
	else if (rc == -1)
		rc = CLI_EXIT_OK;
	annals_query_free(q);
	return (rc);
}
