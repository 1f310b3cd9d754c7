/*
 * annals(1): the command-line client.  main() takes the global options,
 * finds the command in the table and runs it; each command lives in its
 * own cli-*.c file and parses its own options.  Exit statuses are the
 * CLI_EXIT_* of cli.h, documented in annals.1 and in --help.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int	cli_help_exec(struct cli *, int, char **);

static const struct option cli_help_longopts[] = {
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

/* annals help [COMMAND], here rather than in a cli-*.c: it reads the table. */
static const struct cli_command cli_help_command = {
	"help",
	"[COMMAND]",
	cli_help_exec,
	cli_help_longopts
};

static const struct cli_command *cli_commands[] = {
	&cli_add_command,
	&cli_get_command,
	&cli_edit_command,
	&cli_set_command,
	&cli_range_command,
	&cli_actor_command,
	&cli_actors_command,
	&cli_actor_name_command,
	&cli_alias_command,
	&cli_rm_command,
	&cli_stats_command,
	&cli_ping_command,
	&cli_histogram_command,
	&cli_top_command,
	&cli_co_actors_command,
	&cli_import_command,
	&cli_export_command,
	&cli_changes_command,
	&cli_backup_command,
	&cli_compact_command,
	&cli_check_command,
	&cli_help_command,
};
#define CLI_NCOMMANDS (sizeof cli_commands / sizeof cli_commands[0])

static void
cli_usage(FILE *fp)
{
	size_t	i;

	fputs("usage: annals [-s SOCKET | -H HOST:PORT] "
	    "[--format jsonl|csv|table] COMMAND ...\n\ncommands:\n", fp);
	for (i = 0; i < CLI_NCOMMANDS; i++)
		fprintf(fp, "  annals %s%s%s\n", cli_commands[i]->name,
		    *cli_commands[i]->usage != '\0' ? " " : "",
		    cli_commands[i]->usage);
}

static void
cli_help(void)
{
	cli_usage(stdout);
	fputs("\n"
"options:\n"
"  -s, --socket SOCKET   connect to this Unix socket\n"
"  -H, --host HOST:PORT  connect over TCP\n"
"      --format FORMAT   jsonl, csv or table (default: table on a\n"
"                        terminal, jsonl otherwise)\n"
"      --token-file FILE send the token on FILE's first line to a\n"
"                        daemon run with --auth-file\n"
"      --complete        exit 5 when a limit cut the result\n"
"  -h, --help            show this help; help COMMAND or COMMAND --help\n"
"                        for one command\n"
"The options but -h and -V may also follow COMMAND.\n"
"  -V, --version         show the version\n"
"\n"
"range and actor print at most 100 events unless --limit N or --all\n"
"is given; they fetch further pages from the daemon as needed.\n"
"When a limit cut a result, a line on stderr says so.\n"
"actor CODE FROM, without TO, takes TO as .. (open): the events that\n"
"overlap FROM or come after it.  range needs both dates (.. for open).\n"
"add prints each record's id, rev and status (added, updated or\n"
"unchanged); rm prints the ids deleted and reports those not found.\n"
"In a table, \"?\" marks an event that only possibly matches.\n"
"Dates are EDTF: " CLI_DATE_FORMS ".\n"
"\n"
"environment:\n"
"  ANNALS_SOCKET         socket used without -s or -H (default\n"
"                        " ANNALS_DEFAULT_SOCKET ")\n"
"  ANNALS_TOKEN          token sent without --token-file\n"
"\n"
"exit status:\n"
"  0  success\n"
"  1  an event was not found, or import rejected rows\n"
"  2  usage error\n"
"  3  cannot connect to annalsd, or the connection failed\n"
"  4  the daemon refused the request, or another error\n"
"  5  with --complete: a limit cut the result\n", stdout);
}

static const struct cli_command *
cli_find(const char *name)
{
	size_t	i;

	for (i = 0; i < CLI_NCOMMANDS; i++) {
		if (strcmp(cli_commands[i]->name, name) == 0)
			return (cli_commands[i]);
	}
	return (NULL);
}

/* The edit distance of a and b, up to 32 bytes of b. */
static size_t
cli_distance(const char *a, const char *b)
{
	size_t	row[33], i, j, diag, up, n;

	n = strlen(b);
	if (n > 32)
		n = 32;
	for (j = 0; j <= n; j++)
		row[j] = j;
	for (i = 1; a[i - 1] != '\0'; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= n; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return (row[n]);
}

/* The farthest a name may be from the one suggested for it, plus one. */
#define CLI_NEAR	3

/*
 * Make cand the suggestion for the unknown name if it is nearer than
 * *best, at *bestd (start them at NULL and CLI_NEAR): name begins it (at
 * 1), or is a typo of it.
 */
static void
cli_nearest(const char *name, const char *cand, const char **best,
    size_t *bestd)
{
	size_t	d;

	if (strncmp(cand, name, strlen(name)) == 0)
		d = 1;
	else
		d = cli_distance(name, cand);
	if (d < *bestd) {
		*best = cand;
		*bestd = d;
	}
}

/*
 * An unknown command: name the nearest one (a typo, or the start of
 * one) rather than print every usage.
 */
static int
cli_unknown(const char *name)
{
	const char	*best = NULL;
	size_t		 i, bestd = CLI_NEAR;

	for (i = 0; i < CLI_NCOMMANDS; i++)
		cli_nearest(name, cli_commands[i]->name, &best, &bestd);
	if (best != NULL)
		cli_common_warn("unknown command \"%s\"; did you mean %s?",
		    name, best);
	else
		cli_common_warn("unknown command \"%s\"; annals --help lists "
		    "the commands", name);
	return (CLI_EXIT_USAGE);
}

/*
 * annals help is annals --help, and annals help COMMAND is annals COMMAND
 * --help: every command answers --help with cli_common_help().
 */
static int
cli_help_exec(struct cli *cli, int argc, char **argv)
{
	const struct cli_command	*cmd;
	int				 ch;

	while ((ch = getopt_long(argc, argv, "h", cli_help_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			return (cli_common_help(cli->cmd));
		default:
			return (cli_common_badopt(cli->cmd));
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		cli_help();
		return (CLI_EXIT_OK);
	}
	if (argc > 1)
		return (cli_common_usage(cli->cmd, "unexpected argument \"%s\"",
		    argv[1]));
	if ((cmd = cli_find(argv[0])) == NULL)
		return (cli_unknown(argv[0]));
	return (cli_common_help(cmd));
}

/* The global options; all but --help and --version may follow COMMAND. */
static const struct option cli_longopts[] = {
	{ "socket",	required_argument,	NULL, 's' },
	{ "host",	required_argument,	NULL, 'H' },
	{ "format",	required_argument,	NULL, 'f' },
	{ "token-file",	required_argument,	NULL, 't' },
	{ "complete",	no_argument,		NULL, 'C' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

/* Apply one global option; 0, or the exit status of a usage error. */
static int
cli_option(struct cli *cli, int ch, const char *arg)
{
	switch (ch) {
	case 's':
		cli->address = arg;
		cli->addr_opts |= CLI_ADDR_SOCKET;
		break;
	case 'H':
		if (strchr(arg, ':') == NULL || strchr(arg, '/') != NULL) {
			cli_common_warn("-H %s: not HOST:PORT", arg);
			return (CLI_EXIT_USAGE);
		}
		cli->address = arg;
		cli->addr_opts |= CLI_ADDR_HOST;
		break;
	case 't':
		cli->token_file = arg;
		break;
	case 'C':
		cli->complete = 1;
		break;
	case 'f':
		if (output_format(arg, &cli->format) == -1) {
			cli_common_warn("--format %s: not jsonl, csv or table",
			    arg);
			return (CLI_EXIT_USAGE);
		}
		break;
	}
	return (0);
}

/*
 * The option of opts that --name (len bytes of it) means, as
 * getopt_long() takes it: the exact name, else the one name it begins.
 * *n is how many names it begins (more than one: ambiguous).
 */
static const struct option *
cli_option_find(const struct option *opts, const char *name, size_t len,
    int *n)
{
	const struct option	*o, *found = NULL;

	*n = 0;
	for (o = opts; o->name != NULL; o++) {
		if (strncmp(o->name, name, len) != 0)
			continue;
		if (o->name[len] == '\0') {
			*n = 1;
			return (o);
		}
		found = o;
		(*n)++;
	}
	return (*n == 1 ? found : NULL);
}

/*
 * A long option that neither the command nor the global options have,
 * not even as an abbreviation (len bytes of name): when one of theirs is
 * near, name it, as for a command, and return the usage error's status;
 * 0 leaves the message to the command's getopt_long().
 */
static int
cli_unknown_option(const struct cli_command *cmd, const char *name,
    size_t len)
{
	const struct option	*o;
	const char		*best = NULL;
	char			 buf[64];
	size_t			 bestd = CLI_NEAR;

	if (len >= sizeof buf)
		return (0);
	memcpy(buf, name, len);
	buf[len] = '\0';
	for (o = cmd->options; o->name != NULL; o++)
		cli_nearest(buf, o->name, &best, &bestd);
	for (o = cli_longopts; o->name != NULL; o++) {
		/* --help is in the command's table; no --version there. */
		if (o->val != 'h' && o->val != 'V')
			cli_nearest(buf, o->name, &best, &bestd);
	}
	/* Options run short (--by, --rm): --zz, all changed, is no typo. */
	if (best == NULL || bestd >= len)
		return (0);
	cli_common_warn("unknown option --%s; did you mean --%s?", buf, best);
	return (CLI_EXIT_USAGE);
}

/*
 * Take the global options out of the command's arguments, where people
 * type them as often as before the command ("annals range 2015 2015
 * --format csv").  The command's own options come first: an option it
 * has of the same name (export --format) stays its own, and the value
 * of one of its options ("--title -s") is left alone.  Returns 0 or the
 * exit status of a usage error; *argc is the number of arguments left.
 */
static int
cli_extract(struct cli *cli, const struct cli_command *cmd, int *argc,
    char **argv)
{
	const struct option	*o;
	const char		*a, *arg;
	size_t			 len;
	int			 i, j, n, rc;

	for (i = j = 1; i < *argc; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[j++] = argv[i++];
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			argv[j++] = argv[i];
			continue;
		}
		o = NULL;
		if (a[1] == '-') {
			len = strcspn(a + 2, "=");
			o = cli_option_find(cmd->options, a + 2, len, &n);
			if (n != 0) {
				argv[j++] = argv[i];
				if (o != NULL && o->has_arg ==
				    required_argument && a[2 + len] == '\0' &&
				    i + 1 < *argc)
					argv[j++] = argv[++i];
				continue;
			}
			o = cli_option_find(cli_longopts, a + 2, len, &n);
			if (n == 0 &&
			    (rc = cli_unknown_option(cmd, a + 2, len)) != 0)
				return (rc);
			if (o != NULL && (o->val == 'h' || o->val == 'V'))
				o = NULL;
			arg = a[2 + len] == '=' ? a + 3 + len : NULL;
		} else if (a[1] == 's' || a[1] == 'H') {
			/* The commands' only short option is -h. */
			for (o = cli_longopts; o->val != a[1]; o++)
				;
			arg = a[2] != '\0' ? a + 2 : NULL;
		}
		if (o == NULL) {
			/* The command's getopt_long() says what is wrong. */
			argv[j++] = argv[i];
			continue;
		}
		if (o->has_arg == no_argument && arg != NULL) {
			cli_common_warn("--%s takes no value", o->name);
			return (CLI_EXIT_USAGE);
		}
		if (o->has_arg == required_argument && arg == NULL) {
			if (i + 1 == *argc) {
				cli_common_warn("%s needs a value", a);
				return (CLI_EXIT_USAGE);
			}
			arg = argv[++i];
		}
		if ((rc = cli_option(cli, o->val, arg)) != 0)
			return (rc);
	}
	argv[j] = NULL;
	*argc = j;
	return (0);
}

int
main(int argc, char **argv)
{
	const struct cli_command	*cmd;
	struct cli			 cli;
	char				 prog[64];
	int				 ch, rc;

	memset(&cli, 0, sizeof cli);
	cli.format = isatty(STDOUT_FILENO) ? OUTPUT_TABLE : OUTPUT_JSONL;
	/* "+": options end at the command, which has options of its own. */
	while ((ch = getopt_long(argc, argv, "+s:H:hV", cli_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's': case 'H': case 't': case 'C': case 'f':
			if ((rc = cli_option(&cli, ch, optarg)) != 0)
				return (rc);
			break;
		case 'h':
			cli_help();
			return (CLI_EXIT_OK);
		case 'V':
			printf("annals %s (protocol %d)\n",
			    ANNALS_VERSION_STRING, ANNALS_PROTO_VERSION);
			return (CLI_EXIT_OK);
		default:
			cli_usage(stderr);
			return (CLI_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		cli_usage(stderr);
		return (CLI_EXIT_USAGE);
	}
	if ((cmd = cli_find(argv[0])) == NULL)
		return (cli_unknown(argv[0]));
	if ((rc = cli_extract(&cli, cmd, &argc, argv)) != 0)
		return (rc);
	if (cli.addr_opts == (CLI_ADDR_SOCKET | CLI_ADDR_HOST)) {
		cli_common_warn("-s and -H exclude each other");
		return (CLI_EXIT_USAGE);
	}

	/* getopt_long() names argv[0] in its messages: "annals range: ". */
	snprintf(prog, sizeof prog, "annals %s", cmd->name);
	argv[0] = prog;
	cli.cmd = cmd;
	/* 0 makes glibc's getopt start afresh on the command's argv. */
	optind = 0;
	rc = cmd->exec(&cli, argc, argv);
	annals_free(cli.ctx);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_common_warn("stdout: write error");
		if (rc == CLI_EXIT_OK)
			rc = CLI_EXIT_ERROR;
	}
	return (rc);
}
