/* annals stats and annals ping: the daemon's figures, and whether it answers. */
#include <getopt.h>

#include "cli.h"

static int	cli_stats_exec(struct cli *, int, char **);
static int	cli_ping_exec(struct cli *, int, char **);

static const struct option cli_stats_longopts[] = {
	{ "help",	no_argument,	NULL, 'h' },
	{ NULL,		0,		NULL, 0 }
};

const struct cli_command cli_stats_command = {
	"stats",
	"",
	cli_stats_exec,
	cli_stats_longopts
};

const struct cli_command cli_ping_command = {
	"ping",
	"",
	cli_ping_exec,
	cli_stats_longopts
};

/* Neither command takes arguments: only --help. */
static int
cli_stats_args(const struct cli_command *cmd, int argc, char **argv)
{
	int				 ch;

	while ((ch = getopt_long(argc, argv, "h", cli_stats_longopts,
	    NULL)) != -1) {
		if (ch == 'h') {
			cli_common_help(cmd);
			return (-1);
		}
		return (cli_common_badopt(cmd));
	}
	if (optind != argc)
		return (cli_common_usage(cmd, "unexpected argument \"%s\"",
		    argv[optind]));
	return (0);
}

static int
cli_stats_exec(struct cli *cli, int argc, char **argv)
{
	struct annals_stats	st;
	int			rc;

	if ((rc = cli_stats_args(&cli_stats_command, argc, argv)) != 0)
		return (rc == -1 ? CLI_EXIT_OK : rc);
	if ((rc = cli_common_connect(cli)) != 0)
		return (rc);
	if (annals_stats(cli->ctx, &st) == -1)
		return (cli_common_fail(cli, "stats"));
	if (output_stats(cli->format, stdout, &st) == -1)
		return (CLI_EXIT_ERROR);
	return (CLI_EXIT_OK);
}

static int
cli_ping_exec(struct cli *cli, int argc, char **argv)
{
	int	rc;

	if ((rc = cli_stats_args(&cli_ping_command, argc, argv)) != 0)
		return (rc == -1 ? CLI_EXIT_OK : rc);
	if ((rc = cli_common_connect(cli)) != 0)
		return (rc);
	if (annals_ping(cli->ctx) == -1)
		return (cli_common_fail(cli, "ping"));
	/* Whatever the format, a script reads it as it reads the others. */
	switch (cli->format) {
	case OUTPUT_JSONL:
		printf("{\"pong\":true}\n");
		break;
	case OUTPUT_CSV:
		printf("pong\ntrue\n");
		break;
	default:
		printf("pong\n");
		break;
	}
	return (CLI_EXIT_OK);
}
