/* annals get: print events by id; a missing one is reported, not fatal. */
#include <getopt.h>

#include "cli.h"

static int	cli_get_exec(struct cli *, int, char **);

static const struct option cli_get_longopts[] = {
	{ "fields",	required_argument,	NULL, 'F' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

const struct cli_command cli_get_command = {
	"get",
	"[--fields KEY,...] ID...",
	cli_get_exec,
	cli_get_longopts
};

static int
cli_get_exec(struct cli *cli, int argc, char **argv)
{
	const struct cli_command	*cmd = &cli_get_command;
	struct annals_event		*ev;
	struct output			*out;
	const char			*fields = NULL;
	uint64_t			 id;
	int				 ch, i, rc;

	while ((ch = getopt_long(argc, argv, "h", cli_get_longopts,
	    NULL)) != -1) {
		if (ch == 'F') {
			fields = optarg;
			continue;
		}
		if (ch == 'h')
			return (cli_common_help(cmd));
		return (cli_common_badopt(cmd));
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return (cli_common_usage(cmd, "no event id given"));
	for (i = 0; i < argc; i++) {
		if (cli_common_id(argv[i], &id) == -1)
			return (cli_common_usage(cmd, "%s: not an event id",
			    argv[i]));
	}
	if ((rc = cli_common_connect(cli)) != 0)
		return (rc);
	if ((out = output_new(cli->format, stdout, 0)) == NULL) {
		cli_common_warn("out of memory");
		return (CLI_EXIT_ERROR);
	}
	output_fields(out, fields);
	for (i = 0; i < argc && rc != CLI_EXIT_CONNECT; i++) {
		cli_common_id(argv[i], &id);
		if (annals_get_fields(cli->ctx, id, fields, &ev) == -1) {
			/* Go on after a missing event; stop on the rest. */
			if (annals_errcode(cli->ctx) != ANNALS_ENOTFOUND) {
				rc = cli_common_fail(cli, NULL);
				break;
			}
			cli_common_fail(cli, NULL);
			rc = CLI_EXIT_NOTFOUND;
			continue;
		}
		if (output_event(out, ev, NULL) == -1)
			rc = CLI_EXIT_ERROR;
		annals_event_free(ev);
	}
	if (output_end(out) == -1 && rc == CLI_EXIT_OK)
		rc = CLI_EXIT_ERROR;
	output_free(out);
	return (rc);
}
