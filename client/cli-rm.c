/*
 * annals rm: delete events by id, and say which were deleted; an id
 * that did not exist is reported on stderr and exits 1.
 */
#include <getopt.h>
#include <stdlib.h>

#include "cli.h"

/* Ids per delete request: the protocol's limit. */
#define CLI_RM_BATCH	10000

static int	cli_rm_exec(struct cli *, int, char **);

static const struct option cli_rm_longopts[] = {
	{ "help",	no_argument,	NULL, 'h' },
	{ NULL,		0,		NULL, 0 }
};

const struct cli_command cli_rm_command = {
	"rm",
	"ID...",
	cli_rm_exec,
	cli_rm_longopts
};

static int
cli_rm_exec(struct cli *cli, int argc, char **argv)
{
	const struct cli_command	*cmd = &cli_rm_command;
	uint64_t			*ids;
	int				*deleted, ch, rc;
	size_t				 i, n, done;

	while ((ch = getopt_long(argc, argv, "h", cli_rm_longopts,
	    NULL)) != -1) {
		if (ch == 'h')
			return (cli_common_help(cmd));
		return (cli_common_badopt(cmd));
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return (cli_common_usage(cmd, "no event id given"));
	ids = calloc(argc, sizeof *ids);
	deleted = calloc(argc, sizeof *deleted);
	if (ids == NULL || deleted == NULL) {
		free(ids);
		free(deleted);
		cli_common_warn("out of memory");
		return (CLI_EXIT_ERROR);
	}
	rc = CLI_EXIT_OK;
	for (i = 0; i < (size_t)argc; i++) {
		if (cli_common_id(argv[i], &ids[i]) == -1) {
			rc = cli_common_usage(cmd, "%s: not an event id",
			    argv[i]);
			goto out;
		}
	}
	if ((rc = cli_common_connect(cli)) != 0)
		goto out;
	for (done = 0; done < (size_t)argc; done += n) {
		n = argc - done;
		if (n > CLI_RM_BATCH)
			n = CLI_RM_BATCH;
		if (annals_delete(cli->ctx, ids + done, n,
		    deleted + done) == -1) {
			rc = cli_common_fail(cli, NULL);
			goto out;
		}
	}
	for (i = 0; i < (size_t)argc; i++) {
		if (output_deleted(cli->format, stdout, i == 0, ids[i],
		    deleted[i]) == -1 && rc == CLI_EXIT_OK)
			rc = CLI_EXIT_ERROR;
		if (!deleted[i]) {
			/* After the lines before it, as a person reads. */
			fflush(stdout);
			cli_common_warn("event %llu not found",
			    (unsigned long long)ids[i]);
			if (rc == CLI_EXIT_OK)
				rc = CLI_EXIT_NOTFOUND;
		}
	}
out:
	free(ids);
	free(deleted);
	return (rc);
}
