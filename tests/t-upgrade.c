/*
 * Stores written by an older annalsd.  tests/data/store-format2 holds a
 * store of format 2, made by annalsd at 51a017e from the demo events
 * with an update, a moved start and two deletes, and what that annalsd
 * answered to the commands below (expect.txt).  Today's annalsd must
 * upgrade it in place and answer exactly the same.
 * tests/data/store-text-blocks is that store upgraded to format 3 by
 * annalsd at b474b2b, whose word index had no tails (text_tail): its
 * index is built again, and the answers are the same, its records
 * naming their attrs by string as format 3 did.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test.h"

/* The commands of expect.txt, each ending with NULL. */
static const char *const upgrade_cmds[][12] = {
	{ "range", "1900", "2100", "--all", NULL },
	{ "range", "1900", "2100", "--all", "--desc", "--type", "1", NULL },
	{ "actor", "SYRGOV", "--all", NULL },
	{ "actors", NULL },
	{ "get", "1", "3", "5", "7", "79", NULL },
	{ "changes", "--limit", "1000", NULL },
	{ "histogram", "1990", "2030", "--by", "year", NULL },
	{ "histogram", "2011-01-01", "2013-12-31", "--by", "month", "--type",
	    "1", NULL },
	{ "top", "1900", "2100", "--limit", "10", NULL },
};

/* Append s to the buffer *b of *len bytes. */
static void
upgrade_cat(char **b, size_t *len, const char *s)
{
	size_t	n = strlen(s);

	*b = realloc(*b, *len + n + 1);
	T_ASSERT(*b != NULL);
	memcpy(*b + *len, s, n + 1);
	*len += n;
}

/* Run the commands as expect.txt was made: the same lines, in order. */
static char *
upgrade_answers(const struct th_daemon *d)
{
	const char	*argv[16];
	struct th_run	 r;
	char		*out = NULL, line[256];
	size_t		 len = 0, i, j;

	upgrade_cat(&out, &len, "");
	for (i = 0; i < sizeof upgrade_cmds / sizeof upgrade_cmds[0]; i++) {
		argv[0] = "--format";
		argv[1] = "jsonl";
		snprintf(line, sizeof line, "# annals");
		for (j = 0; upgrade_cmds[i][j] != NULL; j++) {
			argv[2 + j] = upgrade_cmds[i][j];
			strcat(line, " ");
			strcat(line, upgrade_cmds[i][j]);
		}
		argv[2 + j] = NULL;
		strcat(line, "\n");
		upgrade_cat(&out, &len, line);
		th_annals(&r, d->sock, NULL, argv);
		upgrade_cat(&out, &len, r.out);
		upgrade_cat(&out, &len, "# stderr\n");
		upgrade_cat(&out, &len, r.err);
		snprintf(line, sizeof line, "# exit %d\n", r.status);
		upgrade_cat(&out, &len, line);
		th_run_free(&r);
	}
	return (out);
}

/* Lines of s before a "# stderr" line, those holding word if not NULL. */
static size_t
upgrade_lines(const char *s, const char *word)
{
	char	*line;
	size_t	 n = 0, len;

	while (*s != '\0' && strncmp(s, "# stderr", 8) != 0) {
		len = strcspn(s, "\n");
		line = strndup(s, len);
		T_ASSERT(line != NULL);
		n += word == NULL || strstr(line, word) != NULL;
		free(line);
		s += len + (s[len] == '\n');
	}
	return (n);
}

/*
 * The word index built when the upgraded store is opened finds the
 * events whose title or text name Daraa: those of the first answer (the
 * range over every event) that hold the word.
 */
static void
upgrade_text_matches(const struct th_daemon *d, const char *answers)
{
	const char	*argv[] = { "--format", "jsonl", "range", "1900",
	    "2100", "--all", "--text", "daraa", NULL };
	struct th_run	 r;
	size_t		 want;

	want = upgrade_lines(answers, "Daraa");
	T_ASSERT(want > 0);
	th_annals(&r, d->sock, NULL, argv);
	T_ASSERTF(r.status == 0, "%s", r.err);
	T_EQ_U64(upgrade_lines(r.out, NULL), want);
	T_EQ_U64(upgrade_lines(r.out, "Daraa"), want);
	th_run_free(&r);
}

/*
 * Open a copy of tests/data/<fixture>, check its answers against
 * store-format2/expect.txt, write to it, and return the daemon's log.
 */
static char *
upgrade_store(const char *fixture)
{
	const char	*check[] = { "check", NULL };
	const char	*put[] = { "add", "--start", "2021-06-01",
	    "--actor", "SYRGOV", "--title", "after the upgrade", NULL };
	const char	*set[] = { "set", "3", "--start", "1800",
	    NULL };
	const char	*rm[] = { "rm", "5", NULL };
	struct th_daemon d;
	struct th_run	 r;
	char		 path[512], dst[512], *data, *expect, *got, *log;
	size_t		 len;

	snprintf(path, sizeof path, "%s/../tests/data/%s/data.mdb",
	    t_bindir(), fixture);
	data = th_slurp(path, &len);
	T_ASSERT(data != NULL);
	snprintf(dst, sizeof dst, "%s/data", t_dir());
	T_ASSERT(mkdir(dst, 0750) == 0);
	snprintf(dst, sizeof dst, "%s/data/data.mdb", t_dir());
	th_write(dst, data, len);
	free(data);
	snprintf(path, sizeof path, "%s/../tests/data/store-format2/expect.txt",
	    t_bindir());
	expect = th_slurp(path, &len);
	T_ASSERT(expect != NULL);

	T_OK(th_daemon_start(&d, NULL));
	got = upgrade_answers(&d);
	if (strcmp(got, expect) != 0) {
		snprintf(path, sizeof path, "%s/upgrade-answers.txt", t_dir());
		th_write(path, got, strlen(got));
	}
	T_ASSERTF(strcmp(got, expect) == 0, "answers differ from "
	    "expect.txt: see upgrade-answers.txt in %s", t_dir());
	upgrade_text_matches(&d, got);
	free(got);
	free(expect);

	/* Writes after the upgrade keep the store whole. */
	th_annals(&r, d.sock, NULL, put);
	T_EQ_INT(r.status, 0);
	th_run_free(&r);
	th_annals(&r, d.sock, NULL, set);
	T_EQ_INT(r.status, 0);
	th_run_free(&r);
	th_annals(&r, d.sock, NULL, rm);
	T_EQ_INT(r.status, 0);
	th_run_free(&r);
	th_annals(&r, d.sock, NULL, check);
	T_ASSERTF(r.status == 0 && strstr(r.out, "ok, 0 problems") != NULL,
	    "%s%s", r.out, r.err);
	th_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);

	log = th_slurp(d.log, &len);
	T_ASSERT(log != NULL);
	return (log);
}

TEST(upgrade_format2_store_answers_as_before)
{
	struct th_daemon d;
	char		*log;
	size_t		 len;

	log = upgrade_store("store-format2");
	T_ASSERTF(strstr(log, "upgrading the store from format 2 to 4") !=
	    NULL && strstr(log, "upgraded 77 records") != NULL, "%s", log);
	/* Format 2 had no word index: it is built after the upgrade. */
	T_ASSERTF(strstr(log, "indexed the words of 77 stored events") !=
	    NULL, "%s", log);
	free(log);

	/* Opened again, it is not upgraded twice. */
	T_OK(th_daemon_start(&d, NULL));
	T_EQ_INT(th_daemon_stop(&d), 0);
	log = th_slurp(d.log, &len);
	T_ASSERT(log != NULL);
	T_ASSERT(strstr(strstr(log, "upgraded 77") + 1, "upgrad") == NULL);
	free(log);
}

TEST(upgrade_text_index_without_tails_is_built_again)
{
	struct th_daemon d;
	char		*log;
	size_t		 len;

	log = upgrade_store("store-text-blocks");
	T_ASSERTF(strstr(log, "upgrading") == NULL &&
	    strstr(log, "indexed the words of 77 stored events") != NULL,
	    "%s", log);
	/* Format 3 is read as it is: its attrs keep their names. */
	T_ASSERTF(strstr(log, "store format 3 is now 4") != NULL, "%s", log);
	free(log);

	/* Opened again, it is not indexed twice. */
	T_OK(th_daemon_start(&d, NULL));
	T_EQ_INT(th_daemon_stop(&d), 0);
	log = th_slurp(d.log, &len);
	T_ASSERT(log != NULL);
	T_ASSERT(strstr(strstr(log, "indexed the words") + 1,
	    "indexed the words") == NULL);
	free(log);
}
