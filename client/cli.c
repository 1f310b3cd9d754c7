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

static const struct cli_command *cli_commands[] = {
	&cli_add_command,
	&cli_get_command,
	&cli_range_command,
	&cli_actor_command,
	&cli_actors_command,
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
	&cli_check_command,
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
"      --complete        exit 5 when a limit cut the result\n"
"  -h, --help            show this help; COMMAND --help for one command\n"
"  -V, --version         show the version\n"
"\n"
"range and actor print at most 100 events unless --limit N or --all\n"
"is given; they fetch further pages from the daemon as needed.\n"
"When a limit cut a result, a line on stderr says so.\n"
"In a table, \"?\" marks an event that only possibly matches.\n"
"\n"
"environment:\n"
"  ANNALS_SOCKET         socket used without -s or -H (default\n"
"                        " ANNALS_DEFAULT_SOCKET ")\n"
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

int
main(int argc, char **argv)
{
	static const struct option	 longopts[] = {
		{ "socket",	required_argument,	NULL, 's' },
		{ "host",	required_argument,	NULL, 'H' },
		{ "format",	required_argument,	NULL, 'f' },
		{ "token-file",	required_argument,	NULL, 't' },
		{ "complete",	no_argument,		NULL, 'C' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	const struct cli_command	*cmd;
	struct cli			 cli;
	int				 ch, rc, have_s = 0, have_h = 0;

	memset(&cli, 0, sizeof cli);
	cli.format = isatty(STDOUT_FILENO) ? OUTPUT_TABLE : OUTPUT_JSONL;
	/* "+": options end at the command, which has options of its own. */
	while ((ch = getopt_long(argc, argv, "+s:H:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			cli.address = optarg;
			have_s = 1;
			break;
		case 'H':
			if (strchr(optarg, ':') == NULL ||
			    strchr(optarg, '/') != NULL) {
				cli_common_warn("-H %s: not HOST:PORT", optarg);
				return (CLI_EXIT_USAGE);
			}
			cli.address = optarg;
			have_h = 1;
			break;
		case 't':
			cli.token_file = optarg;
			break;
		case 'C':
			cli.complete = 1;
			break;
		case 'f':
			if (output_format(optarg, &cli.format) == -1) {
				cli_common_warn("--format %s: not jsonl, csv "
				    "or table", optarg);
				return (CLI_EXIT_USAGE);
			}
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
	if (have_s && have_h) {
		cli_common_warn("-s and -H exclude each other");
		return (CLI_EXIT_USAGE);
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		cli_usage(stderr);
		return (CLI_EXIT_USAGE);
	}
	if ((cmd = cli_find(argv[0])) == NULL) {
		cli_common_warn("unknown command \"%s\"", argv[0]);
		cli_usage(stderr);
		return (CLI_EXIT_USAGE);
	}

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
