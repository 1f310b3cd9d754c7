/*
 * The operator's side of the CLI against the real daemon: tokens from
 * $ANNALS_TOKEN and --token-file, annals backup and annals check.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test.h"

/* Run the annals binary with a shell command line; return its status. */
static int
annals(const struct th_daemon *d, const char *env, const char *args,
    char *out, size_t size)
{
	char	 cmd[1024];
	FILE	*f;
	size_t	 n;
	int	 st;

	snprintf(cmd, sizeof cmd, "%s %s/annals -s %s %s > %s/out 2>&1",
	    env ? env : "", t_bindir(), d->sock, args, t_dir());
	st = system(cmd);
	snprintf(cmd, sizeof cmd, "%s/out", t_dir());
	out[0] = '\0';
	if ((f = fopen(cmd, "r")) != NULL) {
		n = fread(out, 1, size - 1, f);
		out[n] = '\0';
		fclose(f);
	}
	fprintf(stderr, "annals %s -> %d: %s", args, st, out);
	return (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

TEST(cli_tokens_from_env_and_file)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--auth-file", NULL, NULL };
	char			 path[256], tokfile[128], out[4096];
	FILE			*f;

	snprintf(path, sizeof path, "%s/tokens", t_dir());
	f = fopen(path, "w");
	fprintf(f, "reader-token-0123456789 read\n"
	    "writer-token-0123456789 write\n");
	fclose(f);
	extra[1] = path;
	T_OK(th_daemon_start(&d, extra));

	/* No token: refused, and the message says why. */
	T_EQ_INT(annals(&d, NULL, "range 2015 2015", out, sizeof out), 4);
	T_ASSERT(strstr(out, "needs a token") != NULL);
	T_EQ_INT(annals(&d, "ANNALS_TOKEN=reader-token-0123456789",
	    "range 2015 2015", out, sizeof out), 0);
	T_EQ_INT(annals(&d, "ANNALS_TOKEN=reader-token-0123456789",
	    "add --start 2015 --actor RUS --title t", out, sizeof out), 4);
	T_ASSERT(strstr(out, "write scope") != NULL);
	T_EQ_INT(annals(&d, "ANNALS_TOKEN=wrong-token-000000000000",
	    "ping", out, sizeof out), 4);
	T_ASSERT(strstr(out, "token not accepted") != NULL);

	snprintf(tokfile, sizeof tokfile, "%s/tok", t_dir());
	f = fopen(tokfile, "w");
	fprintf(f, "writer-token-0123456789\n");
	fclose(f);
	snprintf(path, sizeof path, "--token-file %s add --start 2015 "
	    "--actor RUS --title t", tokfile);
	T_EQ_INT(annals(&d, NULL, path, out, sizeof out), 0);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(cli_backup_and_check)
{
	struct th_daemon	 d;
	const char		*extra[] = { "--data", NULL, NULL };
	char			 copy[128], args[256], out[4096];
	struct stat		 sb;

	T_OK(th_daemon_start(&d, NULL));
	T_EQ_INT(annals(&d, NULL, "add --start 2015-01-26/2015-01-29 "
	    "--actor RUS --actor SYRGOV --title talks", out, sizeof out), 0);
	T_EQ_INT(annals(&d, NULL, "check", out, sizeof out), 0);
	/* One of each, said in the singular. */
	T_ASSERTF(strncmp(out, "check: 1 event, ", 16) == 0 &&
	    strstr(out, " index entries, 1 change: ok, 0 problems\n") != NULL,
	    "%s", out);
	snprintf(copy, sizeof copy, "%s/copy", t_dir());
	snprintf(args, sizeof args, "backup %s", copy);
	T_EQ_INT(annals(&d, NULL, args, out, sizeof out), 0);
	T_ASSERT(strstr(out, "bytes") != NULL);
	snprintf(args, sizeof args, "%s/data.mdb", copy);
	T_OK(stat(args, &sb));
	/* Not over an existing copy. */
	snprintf(args, sizeof args, "backup %s", copy);
	T_EQ_INT(annals(&d, NULL, args, out, sizeof out), 4);
	T_ASSERT(strstr(out, "already holds a database") != NULL);
	T_EQ_INT(th_daemon_stop(&d), 0);

	/* The copy serves as a data directory of its own. */
	extra[1] = copy;
	T_OK(th_daemon_start(&d, extra));
	T_EQ_INT(annals(&d, NULL, "--format jsonl range 2015-01 2015-01", out,
	    sizeof out), 0);
	T_ASSERT(strstr(out, "\"title\":\"talks\"") != NULL);
	T_EQ_INT(th_daemon_stop(&d), 0);
}
