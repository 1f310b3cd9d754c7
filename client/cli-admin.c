/*
 * annals backup, compact, check, stats and ping: the operator's commands, sent with
 * the raw annals_call() since their results are small maps.  stats prints
 * the whole map, so whatever the daemon reports (the store's uuid, a
 * replica's lag) shows without a new library call.
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int	cli_backup_exec(struct cli *, int, char **);
static int	cli_compact_exec(struct cli *, int, char **);
static int	cli_check_exec(struct cli *, int, char **);
static int	cli_stats_exec(struct cli *, int, char **);
static int	cli_ping_exec(struct cli *, int, char **);

static const struct option cli_admin_longopts[] = {
	{ "help",	no_argument,	NULL, 'h' },
	{ NULL,		0,		NULL, 0 }
};

const struct cli_command cli_backup_command = {
	"backup",
	"DIR",
	cli_backup_exec,
	cli_admin_longopts
};

const struct cli_command cli_compact_command = {
	"compact",
	"",
	cli_compact_exec,
	cli_admin_longopts
};

const struct cli_command cli_check_command = {
	"check",
	"",
	cli_check_exec,
	cli_admin_longopts
};

const struct cli_command cli_stats_command = {
	"stats",
	"",
	cli_stats_exec,
	cli_admin_longopts
};

const struct cli_command cli_ping_command = {
	"ping",
	"",
	cli_ping_exec,
	cli_admin_longopts
};

/* Parse the options every admin command has (just --help). */
static int
cli_admin_options(const struct cli_command *cmd, int *argc, char ***argv)
{
	int				ch;

	while ((ch = getopt_long(*argc, *argv, "h", cli_admin_longopts,
	    NULL)) != -1) {
		if (ch == 'h')
			return (cli_common_help(cmd));
		return (cli_common_badopt(cmd));
	}
	*argc -= optind;
	*argv += optind;
	return (-1);
}

/* Call method with params and unpack its result map into u. */
static int
cli_admin_call(struct cli *cli, const char *method, msgpack_sbuffer *params,
    msgpack_unpacked *u)
{
	void	*res = NULL;
	size_t	 len = 0;
	int	 rc;

	if ((rc = cli_common_connect(cli)) != 0)
		return (rc);
	if (annals_call(cli->ctx, method, params ? params->data : NULL,
	    params ? params->size : 0, &res, &len) != 0)
		return (cli_common_fail(cli, method));
	msgpack_unpacked_init(u);
	if (msgpack_unpack_next(u, res, len, NULL) != MSGPACK_UNPACK_SUCCESS ||
	    u->data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(u);
		annals_buf_free(res);
		cli_common_warn("%s: the daemon's answer is not a map", method);
		return (CLI_EXIT_ERROR);
	}
	/* The unpacked strings point into res: keep it until done. */
	cli->call_buf = res;
	return (0);
}

static uint64_t
cli_admin_uint(const msgpack_object *map, const char *key)
{
	uint32_t	i;

	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR &&
		    kv->key.via.str.size == strlen(key) &&
		    memcmp(kv->key.via.str.ptr, key, strlen(key)) == 0 &&
		    kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			return (kv->val.via.u64);
	}
	return (0);
}

static const msgpack_object *
cli_admin_get(const msgpack_object *map, const char *key)
{
	uint32_t	i;

	for (i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];

		if (kv->key.type == MSGPACK_OBJECT_STR &&
		    kv->key.via.str.size == strlen(key) &&
		    memcmp(kv->key.via.str.ptr, key, strlen(key)) == 0)
			return (&kv->val);
	}
	return (NULL);
}

static void
cli_admin_done(struct cli *cli, msgpack_unpacked *u)
{
	msgpack_unpacked_destroy(u);
	annals_buf_free(cli->call_buf);
	cli->call_buf = NULL;
}

static int
cli_backup_exec(struct cli *cli, int argc, char **argv)
{
	const struct cli_command	*cmd = &cli_backup_command;
	msgpack_sbuffer			 sb;
	msgpack_packer			 pk;
	msgpack_unpacked		 u;
	char				 path[PATH_MAX], cwd[PATH_MAX];
	int				 rc;

	if ((rc = cli_admin_options(cmd, &argc, &argv)) != -1)
		return (rc);
	if (argc != 1)
		return (cli_common_usage(cmd, "give one directory"));
	/* The daemon writes it: a relative path means ours, on its host. */
	if (argv[0][0] == '/')
		snprintf(path, sizeof path, "%s", argv[0]);
	else if (getcwd(cwd, sizeof cwd) == NULL ||
	    snprintf(path, sizeof path, "%s/%s", cwd, argv[0]) >=
	    (int)sizeof path)
		return (cli_common_usage(cmd, "%s: path too long", argv[0]));
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str(&pk, 4);
	msgpack_pack_str_body(&pk, "path", 4);
	msgpack_pack_str(&pk, strlen(path));
	msgpack_pack_str_body(&pk, path, strlen(path));
	rc = cli_admin_call(cli, "backup", &sb, &u);
	msgpack_sbuffer_destroy(&sb);
	if (rc != 0)
		return (rc);
	printf("backup %s: %llu bytes\n", path,
	    (unsigned long long)cli_admin_uint(&u.data, "bytes"));
	cli_admin_done(cli, &u);
	return (CLI_EXIT_OK);
}

static int
cli_compact_exec(struct cli *cli, int argc, char **argv)
{
	const struct cli_command	*cmd = &cli_compact_command;
	msgpack_unpacked		 u;
	int				 rc;

	if ((rc = cli_admin_options(cmd, &argc, &argv)) != -1)
		return (rc);
	if (argc != 0)
		return (cli_common_usage(cmd, "takes no arguments"));
	if ((rc = cli_admin_call(cli, "compact", NULL, &u)) != 0)
		return (rc);
	printf("compacted: %llu bytes to %llu, %llu entries, in %llu ms "
	    "(writes held %llu ms)\n",
	    (unsigned long long)cli_admin_uint(&u.data, "bytes_before"),
	    (unsigned long long)cli_admin_uint(&u.data, "bytes_after"),
	    (unsigned long long)cli_admin_uint(&u.data, "entries"),
	    (unsigned long long)cli_admin_uint(&u.data, "ms"),
	    (unsigned long long)cli_admin_uint(&u.data, "writes_held_ms"));
	cli_admin_done(cli, &u);
	return (CLI_EXIT_OK);
}

static int
cli_check_exec(struct cli *cli, int argc, char **argv)
{
	const struct cli_command	*cmd = &cli_check_command;
	const msgpack_object		*probs;
	msgpack_unpacked		 u;
	uint64_t			 n, nev, nidx, nch;
	uint32_t			 i;
	int				 rc;

	if ((rc = cli_admin_options(cmd, &argc, &argv)) != -1)
		return (rc);
	if (argc != 0)
		return (cli_common_usage(cmd, "takes no arguments"));
	if ((rc = cli_admin_call(cli, "check", NULL, &u)) != 0)
		return (rc);
	probs = cli_admin_get(&u.data, "problems");
	for (i = 0; probs != NULL && probs->type == MSGPACK_OBJECT_ARRAY &&
	    i < probs->via.array.size; i++) {
		const msgpack_object *p = &probs->via.array.ptr[i];

		if (p->type == MSGPACK_OBJECT_STR)
			printf("%.*s\n", (int)p->via.str.size, p->via.str.ptr);
	}
	n = cli_admin_uint(&u.data, "nproblems");
	nev = cli_admin_uint(&u.data, "events");
	nidx = cli_admin_uint(&u.data, "index_entries");
	nch = cli_admin_uint(&u.data, "changes");
	printf("check: %llu event%s, %llu index entr%s, %llu change%s: %s%llu "
	    "problem%s\n", (unsigned long long)nev, nev == 1 ? "" : "s",
	    (unsigned long long)nidx, nidx == 1 ? "y" : "ies",
	    (unsigned long long)nch, nch == 1 ? "" : "s", n ? "" : "ok, ",
	    (unsigned long long)n, n == 1 ? "" : "s");
	cli_admin_done(cli, &u);
	return (n ? CLI_EXIT_NOTFOUND : CLI_EXIT_OK);
}

static int
cli_stats_exec(struct cli *cli, int argc, char **argv)
{
	msgpack_unpacked	u;
	int			rc;

	if ((rc = cli_admin_options(&cli_stats_command, &argc, &argv)) != -1)
		return (rc);
	if (argc != 0)
		return (cli_common_usage(&cli_stats_command,
		    "unexpected argument \"%s\"", argv[0]));
	if ((rc = cli_admin_call(cli, "stats", NULL, &u)) != 0)
		return (rc);
	rc = output_stats(cli->format, stdout, &u.data);
	cli_admin_done(cli, &u);
	return (rc == -1 ? CLI_EXIT_ERROR : CLI_EXIT_OK);
}

static int
cli_ping_exec(struct cli *cli, int argc, char **argv)
{
	int	rc;

	if ((rc = cli_admin_options(&cli_ping_command, &argc, &argv)) != -1)
		return (rc);
	if (argc != 0)
		return (cli_common_usage(&cli_ping_command,
		    "unexpected argument \"%s\"", argv[0]));
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
