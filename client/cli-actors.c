/* annals actors: the actor names in the store, with their event counts. */
#include <getopt.h>

#include "cli.h"

static int	cli_actors_exec(struct cli *, int, char **);

static const struct option cli_actors_longopts[] = {
	{ "help",	no_argument,	NULL, 'h' },
	{ NULL,		0,		NULL, 0 }
};

const struct cli_command cli_actors_command = {
	"actors",
	"[PREFIX]",
	cli_actors_exec,
	cli_actors_longopts
};

struct cli_actors_state {
	int	format;
	int	first;
	int	failed;
};

static int
cli_actors_print(const char *name, uint64_t count, const char *label,
    void *arg)
{
	struct cli_actors_state	*st = arg;

	if (output_actor(st->format, stdout, st->first, name, count,
	    label) == -1) {
		st->failed = 1;
		return (1);
	}
	st->first = 0;
	return (0);
}

/*
 * A found() for the case hint: whether an actor name starts with upper.
 * The actors method itself, for a page of one name: annals_actors()
 * would ask for a page of 1000 with their labels.
 */
static int
cli_actors_found(struct cli *cli, const char *upper, void *arg)
{
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	const msgpack_object	*list;
	void			*res = NULL;
	size_t			 len = 0;
	int			 found = 0;

	(void)arg;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	mp_pack_kv_str(&pk, "prefix", upper);
	mp_pack_str(&pk, "limit");
	msgpack_pack_uint32(&pk, 1);
	if (annals_call(cli->ctx, "actors", sb.data, sb.size, &res,
	    &len) == 0) {
		msgpack_unpacked_init(&u);
		if (msgpack_unpack_next(&u, res, len, NULL) ==
		    MSGPACK_UNPACK_SUCCESS &&
		    (list = mp_get(&u.data, "actors")) != NULL &&
		    list->type == MSGPACK_OBJECT_ARRAY)
			found = list->via.array.size > 0;
		msgpack_unpacked_destroy(&u);
	}
	annals_buf_free(res);
	msgpack_sbuffer_destroy(&sb);
	return (found);
}

static int
cli_actors_exec(struct cli *cli, int argc, char **argv)
{
	const struct cli_command	*cmd = &cli_actors_command;
	struct cli_actors_state		 st;
	int				 ch, rc;

	while ((ch = getopt_long(argc, argv, "h", cli_actors_longopts,
	    NULL)) != -1) {
		if (ch == 'h')
			return (cli_common_help(cmd));
		return (cli_common_badopt(cmd));
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		return (cli_common_usage(cmd, "unexpected argument \"%s\"",
		    argv[1]));
	if ((rc = cli_common_connect(cli)) != 0)
		return (rc);
	st.format = cli->format;
	st.first = 1;
	st.failed = 0;
	if (annals_actors_labeled(cli->ctx, argc == 1 ? argv[0] : NULL,
	    cli_actors_print, &st) == -1)
		return (cli_common_fail(cli, "actors"));
	if (!st.failed && output_actor(st.format, stdout, st.first, NULL,
	    0, NULL) == -1)
		st.failed = 1;
	if (st.failed)
		return (CLI_EXIT_ERROR);
	/* No name printed: none starts with the prefix. */
	if (st.first && argc == 1)
		cli_common_case_hint(cli, argv[0], 1, cli_actors_found, NULL);
	return (CLI_EXIT_OK);
}
