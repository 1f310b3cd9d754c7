/*
 * The bash completion, client/annals.bash, run for real: bash sources
 * it, COMP_WORDS and COMP_CWORD are set as bash sets them for a TAB at
 * the end of the line, _annals runs and COMPREPLY is checked.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test.h"

extern char	**environ;

static void
cc_slurp(const char *path, char *buf, size_t size)
{
	FILE	*f;
	size_t	 n = 0;

	T_ASSERT((f = fopen(path, "r")) != NULL);
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
}

/*
 * Complete the last of words (NULL-terminated; the first is the annals
 * binary) and return COMPREPLY as one line, entries separated by
 * spaces.  Anything the completion wrote to stderr fails the test: it
 * must stay quiet, with or without a daemon.
 */
static const char *
cc_complete(const char **words)
{
	static char	 reply[16384];
	static const char script[] =
	    "f=$1; shift; source \"$f\" || exit 9\n"
	    "COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1))\n"
	    "_annals; echo \"${COMPREPLY[*]}\"\n";
	posix_spawn_file_actions_t	 fa;
	const char			*argv[32];
	char				 bindir[PATH_MAX], file[PATH_MAX + 32];
	char				 out[256], err[256], errtext[4096];
	pid_t				 pid;
	int				 i = 0, status;

	snprintf(bindir, sizeof bindir, "%s", t_bindir());
	snprintf(file, sizeof file, "%s/client/annals.bash", dirname(bindir));
	snprintf(out, sizeof out, "%s/complete.out", t_dir());
	snprintf(err, sizeof err, "%s/complete.err", t_dir());
	argv[i++] = "bash";
	argv[i++] = "--norc";
	argv[i++] = "--noprofile";
	argv[i++] = "-c";
	argv[i++] = script;
	argv[i++] = "bash";
	argv[i++] = file;
	while (*words != NULL && i < 31)
		argv[i++] = *words++;
	argv[i] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out,
	    O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err,
	    O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_EQ_INT(posix_spawnp(&pid, "bash", &fa, NULL, (char **)argv,
	    environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	cc_slurp(err, errtext, sizeof errtext);
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "bash exited %d: %s", status, errtext);
	T_EQ_STR(errtext, "");
	cc_slurp(out, reply, sizeof reply);
	reply[strcspn(reply, "\n")] = '\0';
	fprintf(stderr, "complete ... \"%s\" -> \"%s\"\n", words[-1], reply);
	return (reply);
}

#define CC_COMPLETE(...) cc_complete((const char *[]){ __VA_ARGS__, NULL })

static char	cc_bin[PATH_MAX];

static const char *
cc_annals(void)
{
	snprintf(cc_bin, sizeof cc_bin, "%s/annals", t_bindir());
	return (cc_bin);
}

TEST(complete_commands_and_options_from_the_help)
{
	const char	*a = cc_annals();

	/* Every command of the table, in its order. */
	T_EQ_STR(CC_COMPLETE(a, ""), "add get edit set range actor actors "
	    "actor-name alias rm "
	    "stats ping histogram top co-actors import export changes backup "
	    "compact check help");
	T_EQ_STR(CC_COMPLETE(a, "ra"), "range");
	T_EQ_STR(CC_COMPLETE(a, "co"), "co-actors compact");
	T_EQ_STR(CC_COMPLETE(a, "co-"), "co-actors");
	T_EQ_STR(CC_COMPLETE(a, "--format", ""), "jsonl csv table");
	T_EQ_STR(CC_COMPLETE(a, "--so"), "--socket");
	/* After global options the command still completes. */
	T_EQ_STR(CC_COMPLETE(a, "--format", "csv", "hi"), "histogram");
	T_EQ_STR(CC_COMPLETE(a, "-s", "/x.sock", "ed"), "edit");
	/* annals help COMMAND completes the commands. */
	T_EQ_STR(CC_COMPLETE(a, "help", "hi"), "histogram");
	T_EQ_STR(CC_COMPLETE(a, "help", "actor"), "actor actors actor-name");

	/* A command's options, and the values its usage lists. */
	T_EQ_STR(CC_COMPLETE(a, "range", "2015", "2016", "--c"), "--certain");
	T_EQ_STR(CC_COMPLETE(a, "set", "1", "--add-"),
	    "--add-actor --add-tag --add-url");
	T_EQ_STR(CC_COMPLETE(a, "set", "1", "--rm"),
	    "--rm-actor --rm-tag --rm-url --rm-attr");
	T_EQ_STR(CC_COMPLETE(a, "set", "1", "--clear", "t"),
	    "type title text tags");
	T_EQ_STR(CC_COMPLETE(a, "histogram", "2015", "2016", "--by", ""),
	    "day week month year");
	T_EQ_STR(CC_COMPLETE(a, "export", "--format", "t"), "timelinejs");
	T_EQ_STR(CC_COMPLETE(a, "import", "--format", "c"), "csv");
	T_EQ_STR(CC_COMPLETE(a, "import", "--no"), "--no-content-key");
	/* A free value or an id offers nothing rather than options. */
	T_EQ_STR(CC_COMPLETE(a, "set", "1", "--title", ""), "");
	T_EQ_STR(CC_COMPLETE(a, "get", ""), "");
	/* --fields: record keys after the last comma, none twice. */
	T_EQ_STR(CC_COMPLETE(a, "range", "2015", "2016", "--fields", "t"),
	    "type title text tags");
	T_EQ_STR(CC_COMPLETE(a, "get", "--fields", "id,start,t"),
	    "id,start,type id,start,title id,start,text id,start,tags");
	T_EQ_STR(CC_COMPLETE(a, "changes", "--fields", "title,ti"), "");
	T_EQ_STR(CC_COMPLETE(a, "get", "--fields", "start", ""), "");
}

TEST(complete_actor_codes_from_the_daemon)
{
	struct th_daemon	 d;
	const char		*a = cc_annals();
	char			 cmd[8192], none[256];

	T_OK(th_daemon_start(&d, NULL));
	snprintf(cmd, sizeof cmd, "printf '%%s\\n' "
	    "'{\"start\":\"2015\",\"actors\":[\"RUS\",\"RUM\"]}' "
	    "'{\"start\":\"2015\",\"actors\":[\"SYR\",\"Bashar al-Assad\"]}' "
	    "| %s -s %s add - >&2", a, d.sock);
	T_EQ_INT(system(cmd), 0);

	T_EQ_STR(CC_COMPLETE(a, "-s", d.sock, "actor", ""),
	    "Bashar\\ al-Assad RUM RUS SYR");
	T_EQ_STR(CC_COMPLETE(a, "-s", d.sock, "actor", "RU"), "RUM RUS");
	T_EQ_STR(CC_COMPLETE(a, "--socket", d.sock, "range", "2015", "2015",
	    "--actor", "S"), "SYR");
	T_EQ_STR(CC_COMPLETE(a, "-s", d.sock, "set", "1", "--add-actor",
	    "Bashar\\ al"), "Bashar\\ al-Assad");
	T_EQ_STR(CC_COMPLETE(a, "-s", d.sock, "actors", "R"), "RUM RUS");
	/* Only an actor's place gets actor codes. */
	T_EQ_STR(CC_COMPLETE(a, "-s", d.sock, "co-actors", "RUS", ""), "");

	/* No daemon there: nothing, and no message. */
	snprintf(none, sizeof none, "%s/none.sock", t_dir());
	T_EQ_STR(CC_COMPLETE(a, "-s", none, "actor", "R"), "");
	T_EQ_INT(th_daemon_stop(&d), 0);
}
