/*
 * annals set: change some fields of one event from options, for scripts.
 * The event is read, its JSON record (json.c) changed option by option
 * in the order given, and put back whole by cli_edit_put(), which prints
 * the outcome.  Removing what the event does not have changes nothing,
 * so a script may run the same set twice.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int	cli_set_exec(struct cli *, int, char **);

static const struct option cli_set_longopts[] = {
	{ "start",	required_argument,	NULL, 's' },
	{ "end",	required_argument,	NULL, 'e' },
	{ "title",	required_argument,	NULL, 't' },
	{ "text",	required_argument,	NULL, 'x' },
	{ "type",	required_argument,	NULL, 'y' },
	{ "place",	required_argument,	NULL, 'p' },
	{ "country",	required_argument,	NULL, 'c' },
	{ "lat",	required_argument,	NULL, 'L' },
	{ "lon",	required_argument,	NULL, 'O' },
	{ "add-actor",	required_argument,	NULL, 'a' },
	{ "rm-actor",	required_argument,	NULL, 'A' },
	{ "add-tag",	required_argument,	NULL, 'g' },
	{ "rm-tag",	required_argument,	NULL, 'G' },
	{ "add-url",	required_argument,	NULL, 'u' },
	{ "rm-url",	required_argument,	NULL, 'U' },
	{ "attr",	required_argument,	NULL, 'k' },
	{ "rm-attr",	required_argument,	NULL, 'K' },
	{ "clear",	required_argument,	NULL, 'C' },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 }
};

const struct cli_command cli_set_command = {
	"set",
	"ID [--start DATE] [--end DATE] [--title TEXT] [--text TEXT]\n"
	"             [--type T] [--place NAME] [--country CC] [--lat X] "
	"[--lon Y]\n"
	"             [--add-actor CODE[:ROLE]]... [--rm-actor "
	"CODE[:ROLE]]...\n"
	"             [--add-tag T]... [--rm-tag T]... [--add-url URL]...\n"
	"             [--rm-url URL]... [--attr NAME=VALUE]... "
	"[--rm-attr NAME]...\n"
	"             [--clear end|type|title|text|place|urls|tags|attrs]...",
	cli_set_exec,
	cli_set_longopts
};

/* The fields --clear may remove: the others are required. */
static const char *const cli_set_clearable[] = {
	"end", "type", "title", "text", "place", "urls", "tags", "attrs", NULL
};

/* One option, kept until the event is there to apply it to. */
struct cli_set_op {
	int		 ch;
	const char	*arg;
};

/* rec's object or array under key, made when it is not there. */
static json_t *
cli_set_member(json_t *rec, const char *key, int array)
{
	json_t	*v;

	if ((v = json_object_get(rec, key)) == NULL || json_is_null(v)) {
		v = array ? json_array() : json_object();
		json_object_set_new(rec, key, v);
	}
	return (v);
}

/* Append v to rec's list under key unless an equal entry is there. */
static void
cli_set_add(json_t *rec, const char *key, json_t *v)
{
	json_t	*list, *item;
	size_t	 i;

	list = cli_set_member(rec, key, 1);
	json_array_foreach(list, i, item) {
		if (json_equal(item, v)) {
			json_decref(v);
			return;
		}
	}
	json_array_append_new(list, v);
}

/*
 * Whether item is the actor of --rm-actor arg: CODE is every entry of
 * that name, CODE:ROLE only the one with that role.
 */
static int
cli_set_actor_is(json_t *item, const char *arg)
{
	json_t	*want;
	int	 same;

	if (strchr(arg, ':') == NULL)
		return (json_is_object(item) && json_is_string(json_object_get(
		    item, "name")) && strcmp(json_string_value(json_object_get(
		    item, "name")), arg) == 0);
	want = cli_add_actor(arg);
	same = json_equal(item, want);
	json_decref(want);
	return (same);
}

/* Remove the entries of rec's list under key that are arg. */
static void
cli_set_remove(json_t *rec, const char *key, const char *arg)
{
	json_t	*list, *item;
	size_t	 i;
	int	 is;

	if ((list = json_object_get(rec, key)) == NULL ||
	    !json_is_array(list))
		return;
	for (i = 0; i < json_array_size(list);) {
		item = json_array_get(list, i);
		if (strcmp(key, "actors") == 0)
			is = cli_set_actor_is(item, arg);
		else
			is = json_is_string(item) &&
			    strcmp(json_string_value(item), arg) == 0;
		if (is)
			json_array_remove(list, i);
		else
			i++;
	}
	/* Empty lists are absent, as on the wire; actors are required. */
	if (json_array_size(list) == 0 && strcmp(key, "actors") != 0)
		json_object_del(rec, key);
}

/* The field of a string option: --start and --end to --type. */
static const char *
cli_set_field(int ch)
{
	switch (ch) {
	case 's':
		return ("start");
	case 'e':
		return ("end");
	case 't':
		return ("title");
	case 'x':
		return ("text");
	}
	return ("type");
}

/* Apply one option, checked by cli_set_options(), to rec. */
static void
cli_set_apply(json_t *rec, const struct cli_set_op *op)
{
	json_t	*attrs;
	double	 d;

	switch (op->ch) {
	case 's':
	case 'e':
	case 't':
	case 'x':
	case 'y':
		json_object_set_new(rec, cli_set_field(op->ch),
		    json_string(op->arg));
		break;
	case 'p':
	case 'c':
		json_object_set_new(cli_set_member(rec, "place", 0),
		    op->ch == 'p' ? "name" : "country", json_string(op->arg));
		break;
	case 'L':
	case 'O':
		cli_add_number(op->arg, &d);
		json_object_set_new(cli_set_member(rec, "place", 0),
		    op->ch == 'L' ? "lat" : "lon", json_real(d));
		break;
	case 'a':
		cli_set_add(rec, "actors", cli_add_actor(op->arg));
		break;
	case 'A':
		cli_set_remove(rec, "actors", op->arg);
		break;
	case 'g':
		cli_set_add(rec, "tags", json_string(op->arg));
		break;
	case 'G':
		cli_set_remove(rec, "tags", op->arg);
		break;
	case 'u':
		cli_set_add(rec, "urls", json_string(op->arg));
		break;
	case 'U':
		cli_set_remove(rec, "urls", op->arg);
		break;
	case 'k':
		cli_add_attr(cli_set_member(rec, "attrs", 0), op->arg);
		break;
	case 'K':
		if ((attrs = json_object_get(rec, "attrs")) != NULL) {
			json_object_del(attrs, op->arg);
			if (json_object_size(attrs) == 0)
				json_object_del(rec, "attrs");
		}
		break;
	case 'C':
		json_object_del(rec, op->arg);
		break;
	}
}

/*
 * Check the options and keep them in ops, in their order; *id gets the
 * event.  Returns 0, -1 after --help, or a usage error's status.
 */
static int
cli_set_options(int argc, char **argv, struct cli_set_op *ops, size_t *nops,
    uint64_t *id)
{
	const struct cli_command	*cmd = &cli_set_command;
	json_t				*scratch;
	double				 d;
	size_t				 i;
	int				 ch, bad;

	*nops = 0;
	while ((ch = getopt_long(argc, argv, "h", cli_set_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			cli_common_help(cmd);
			return (-1);
		case 'L':
		case 'O':
			if (cli_add_number(optarg, &d) == -1)
				return (cli_common_usage(cmd, "--%s %s: not a "
				    "number", ch == 'L' ? "lat" : "lon",
				    optarg));
			break;
		case 'k':
			scratch = json_object();
			bad = cli_add_attr(scratch, optarg);
			json_decref(scratch);
			if (bad)
				return (cli_common_usage(cmd, "--attr %s: not "
				    "NAME=VALUE", optarg));
			break;
		case 'a':
		case 'A':
			if (!cli_add_role_ok(optarg))
				return (cli_common_usage(cmd, "--%s-actor "
				    "\"%s\": a role must not be empty or hold "
				    "':'", ch == 'a' ? "add" : "rm", optarg));
			break;
		case 'C':
			for (i = 0; cli_set_clearable[i] != NULL; i++) {
				if (strcmp(optarg, cli_set_clearable[i]) == 0)
					break;
			}
			if (cli_set_clearable[i] == NULL)
				return (cli_common_usage(cmd, "--clear %s: not "
				    "end, type, title, text, place, urls, tags "
				    "or attrs", optarg));
			break;
		case '?':
			return (cli_common_badopt(cmd));
		}
		ops[*nops].ch = ch;
		ops[*nops].arg = optarg;
		(*nops)++;
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return (cli_common_usage(cmd, "no event id given"));
	if (cli_common_id(argv[0], id) == -1)
		return (cli_common_usage(cmd, "%s: not an event id", argv[0]));
	if (argc > 1)
		return (cli_common_usage(cmd, "unexpected argument \"%s\"",
		    argv[1]));
	if (*nops == 0)
		return (cli_common_usage(cmd, "nothing to change"));
	return (0);
}

static int
cli_set_exec(struct cli *cli, int argc, char **argv)
{
	struct cli_set_op	*ops;
	struct annals_event	*ev;
	json_t			*orig, *rec;
	char			 err[256];
	size_t			 nops, i;
	uint64_t		 id;
	int			 rc;

	if ((ops = calloc(argc, sizeof *ops)) == NULL) {
		cli_common_warn("out of memory");
		return (CLI_EXIT_ERROR);
	}
	if ((rc = cli_set_options(argc, argv, ops, &nops, &id)) != 0) {
		free(ops);
		return (rc == -1 ? CLI_EXIT_OK : rc);
	}
	if ((rc = cli_common_connect(cli)) != 0) {
		free(ops);
		return (rc);
	}
	if (annals_get(cli->ctx, id, &ev) == -1) {
		free(ops);
		return (cli_common_fail(cli, NULL));
	}
	orig = json_record_encode(ev, 0, err, sizeof err);
	annals_event_free(ev);
	if (orig == NULL || (rec = json_deep_copy(orig)) == NULL) {
		cli_common_warn("event %llu: %s", (unsigned long long)id,
		    orig == NULL ? err : "out of memory");
		json_decref(orig);
		free(ops);
		return (CLI_EXIT_ERROR);
	}
	for (i = 0; i < nops; i++)
		cli_set_apply(rec, &ops[i]);
	rc = cli_edit_put(cli, id, orig, rec);
	json_decref(rec);
	json_decref(orig);
	free(ops);
	return (rc);
}
