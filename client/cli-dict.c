/*
 * annals actor-name and annals alias: the actor dictionary.  Results are
 * printed as the daemon gives them, one JSON object a line.
 *
 *	annals actor-name CODE			its label, CAMEO's name, aliases
 *	annals actor-name CODE NAME		set the user's name
 *	annals actor-name --rm CODE		drop it (CAMEO's shows again)
 *	annals alias set ALIAS CODE[,CODE...] [DURING]
 *	annals alias get|rm ALIAS
 *	annals alias list [PREFIX]
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int	cli_actor_name_exec(struct cli *, int, char **);
static int	cli_alias_exec(struct cli *, int, char **);

static const struct option cli_dict_longopts[] = {
	{ "help",	no_argument,	NULL, 'h' },
	{ "rm",		no_argument,	NULL, 'r' },
	{ NULL,		0,		NULL, 0 }
};

const struct cli_command cli_actor_name_command = {
	"actor-name",
	"[--rm] CODE [NAME]",
	cli_actor_name_exec,
	cli_dict_longopts
};

const struct cli_command cli_alias_command = {
	"alias",
	"set ALIAS CODE[,CODE...] [DURING] | get ALIAS | rm ALIAS | "
	"list [PREFIX]",
	cli_alias_exec,
	cli_dict_longopts
};

/* Call method with params (JSON), print the result (or its key). */
static int
cli_dict_call(struct cli *cli, const char *method, json_t *params,
    const char *key)
{
	msgpack_sbuffer		 sb;
	msgpack_packer		 pk;
	msgpack_unpacked	 u;
	json_t			*out, *v;
	void			*res = NULL;
	size_t			 len = 0, i;
	struct aerr		 aerr;
	char			 err[256];
	int			 rc;

	if ((rc = cli_common_connect(cli)) != 0) {
		json_decref(params);
		return (rc);
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	rc = json_to_mp(&pk, params, 0, &aerr);
	json_decref(params);
	if (rc != 0) {
		msgpack_sbuffer_destroy(&sb);
		cli_common_warn("%s: %s", method, aerr.msg);
		return (CLI_EXIT_ERROR);
	}
	rc = annals_call(cli->ctx, method, sb.data, sb.size, &res, &len);
	msgpack_sbuffer_destroy(&sb);
	if (rc != 0)
		return (cli_common_fail(cli, method));
	msgpack_unpacked_init(&u);
	out = NULL;
	if (msgpack_unpack_next(&u, res, len, NULL) == MSGPACK_UNPACK_SUCCESS)
		out = json_from_mp(&u.data, err, sizeof err);
	msgpack_unpacked_destroy(&u);
	annals_buf_free(res);
	if (out == NULL) {
		cli_common_warn("%s: the daemon's answer is not JSON", method);
		return (CLI_EXIT_ERROR);
	}
	v = key != NULL ? json_object_get(out, key) : out;
	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++) {
			json_dumpf(json_array_get(v, i), stdout,
			    JSON_COMPACT | JSON_ENCODE_ANY);
			putchar('\n');
		}
	} else if (v != NULL) {
		json_dumpf(v, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
		putchar('\n');
	}
	json_decref(out);
	return (fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR);
}

static int
cli_dict_options(const struct cli_command *cmd, int *argc, char ***argv,
    int *rm)
{
	int	ch;

	*rm = 0;
	while ((ch = getopt_long(*argc, *argv, "hr", cli_dict_longopts,
	    NULL)) != -1) {
		if (ch == 'h')
			return (cli_common_help(cmd));
		if (ch == 'r' && cmd == &cli_actor_name_command) {
			*rm = 1;
			continue;
		}
		return (cli_common_badopt(cmd));
	}
	*argc -= optind;
	*argv += optind;
	return (-1);
}

/* {"keys": [{"kind": kind, field: key}]} */
static json_t *
cli_dict_key(const char *kind, const char *field, const char *key)
{
	return (json_pack("{s:[{s:s,s:s}]}", "keys", "kind", kind, field,
	    key));
}

static int
cli_actor_name_exec(struct cli *cli, int argc, char **argv)
{
	const struct cli_command	*cmd = &cli_actor_name_command;
	int				 rc, rm;

	if ((rc = cli_dict_options(cmd, &argc, &argv, &rm)) != -1)
		return (rc);
	if (argc < 1 || argc > 2 || (rm && argc != 1))
		return (cli_common_usage(cmd, "give a code, and a name to set "
		    "it"));
	if (rm)
		return (cli_dict_call(cli, "dict_delete",
		    cli_dict_key("name", "code", argv[0]), "deleted"));
	if (argc == 2)
		return (cli_dict_call(cli, "dict_put", json_pack(
		    "{s:[{s:s,s:s,s:s}]}", "entries", "kind", "name", "code",
		    argv[0], "name", argv[1]), "results"));
	return (cli_dict_call(cli, "dict_get", json_pack("{s:s}", "code",
	    argv[0]), NULL));
}

static int
cli_alias_exec(struct cli *cli, int argc, char **argv)
{
	const struct cli_command	*cmd = &cli_alias_command;
	json_t				*entry, *codes;
	char				*list, *p, *code;
	int				 rc, rm;

	if ((rc = cli_dict_options(cmd, &argc, &argv, &rm)) != -1)
		return (rc);
	if (argc == 0)
		return (cli_common_usage(cmd, "give set, get, rm or list"));
	if (strcmp(argv[0], "list") == 0 && argc <= 2)
		return (cli_dict_call(cli, "dict_list", argc == 2 ?
		    json_pack("{s:s,s:s}", "kind", "alias", "prefix", argv[1]) :
		    json_pack("{s:s}", "kind", "alias"), "entries"));
	if (strcmp(argv[0], "get") == 0 && argc == 2)
		return (cli_dict_call(cli, "dict_get", json_pack("{s:s}",
		    "alias", argv[1]), "entry"));
	if (strcmp(argv[0], "rm") == 0 && argc == 2)
		return (cli_dict_call(cli, "dict_delete",
		    cli_dict_key("alias", "alias", argv[1]), "deleted"));
	if (strcmp(argv[0], "set") != 0 || argc < 3 || argc > 4)
		return (cli_common_usage(cmd, "give set ALIAS CODES [DURING], "
		    "get ALIAS, rm ALIAS or list [PREFIX]"));
	codes = json_array();
	if ((list = strdup(argv[2])) == NULL) {
		json_decref(codes);
		cli_common_warn("out of memory");
		return (CLI_EXIT_ERROR);
	}
	for (p = list; (code = strsep(&p, ",")) != NULL;)
		json_array_append_new(codes, json_string(code));
	free(list);
	entry = json_pack("{s:s,s:s,s:o}", "kind", "alias", "alias", argv[1],
	    "codes", codes);
	if (argc == 4)
		json_object_set_new(entry, "during", json_string(argv[3]));
	return (cli_dict_call(cli, "dict_put", json_pack("{s:[o]}", "entries",
	    entry), "results"));
}
