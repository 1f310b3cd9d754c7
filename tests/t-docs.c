/*
 * Executable documentation: every example of the README and of the man
 * pages' EXAMPLES runs as written against the demo data, and prints what
 * the page shows (tests/doc-examples.py says how a page is read).  A
 * drifting example fails here, in the commit that made it drift.  The
 * man pages must also render without a groff warning.
 */
#include <sys/wait.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "test.h"
#include "../proto/version.h"

static const char *
docs_root(void)
{
	static char	root[1024];
	char		bindir[PATH_MAX];

	/* The runner sits in the build directory, inside the checkout. */
	snprintf(bindir, sizeof bindir, "%s", t_bindir());
	snprintf(root, sizeof root, "%s", dirname(bindir));
	return (root);
}

/* Run tests/doc-examples.py on one page; its report is the test's. */
static void
docs_run(const char *page)
{
	char	 script[PATH_MAX];
	pid_t	 pid;
	int	 status;

	snprintf(script, sizeof script, "%s/tests/doc-examples.py",
	    docs_root());
	T_ASSERT((pid = fork()) != -1);
	if (pid == 0) {
		execl("/usr/bin/python3", "python3", script, t_bindir(),
		    docs_root(), page, (char *)NULL);
		fprintf(stderr, "/usr/bin/python3: %s\n", strerror(errno));
		_exit(127);
	}
	T_ASSERT(waitpid(pid, &status, 0) == pid);
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "%s: its examples do not run as written (above)", page);
}

TEST(docs_readme_examples_run_as_written)
{
	docs_run("README.md");
}

TEST(docs_annals_1_examples_run_as_written)
{
	docs_run("client/annals.1");
}

TEST(docs_annalsd_8_examples_run_as_written)
{
	docs_run("daemon/annalsd.8");
}

TEST(docs_libannals_3_example_builds_and_prints_what_it_shows)
{
	docs_run("client/libannals.3");
}

/* The .TH line of a page: its footer date and version. */
static void
docs_th(const char *page, char *date, size_t datesz, char *version,
    size_t versionsz)
{
	char	 path[PATH_MAX], line[512], *p, *q;
	FILE	*fp;

	snprintf(path, sizeof path, "%s/%s", docs_root(), page);
	T_ASSERTF((fp = fopen(path, "r")) != NULL, "%s: %s", path,
	    strerror(errno));
	T_ASSERT(fgets(line, sizeof line, fp) != NULL);
	fclose(fp);
	T_ASSERTF(strncmp(line, ".TH ", 4) == 0, "%s: %s", page, line);
	/* .TH NAME SECTION "DATE" "Annals VERSION" "TITLE" */
	T_ASSERTF((p = strchr(line, '"')) != NULL &&
	    (q = strchr(p + 1, '"')) != NULL, "%s: %s", page, line);
	snprintf(date, datesz, "%.*s", (int)(q - p - 1), p + 1);
	T_ASSERTF((p = strchr(q + 1, '"')) != NULL &&
	    (q = strchr(p + 1, '"')) != NULL, "%s: %s", page, line);
	snprintf(version, versionsz, "%.*s", (int)(q - p - 1), p + 1);
}

TEST(docs_man_pages_agree_on_date_and_version)
{
	const char	*pages[] = { "client/annals.1", "client/libannals.3",
			    "daemon/annalsd.8" };
	char		 date[3][64], version[3][64], want[64];
	size_t		 i;

	snprintf(want, sizeof want, "Annals %s", ANNALS_VERSION_STRING);
	for (i = 0; i < 3; i++) {
		docs_th(pages[i], date[i], sizeof date[i], version[i],
		    sizeof version[i]);
		T_EQ_STR(version[i], want);
		T_EQ_STR(date[i], date[0]);
	}
}

/*
 * groff drops a line it reads as an unknown request ("..." at the start
 * of a line is the macro ".."), and says so only as a warning: every
 * warning of a page fails here.  Through -k (preconv) and -Tutf8, as man
 * renders them in a UTF-8 locale, so the result does not depend on the
 * locale the tests run in.
 */
TEST(docs_man_pages_render_without_warnings)
{
	const char	*pages[] = { "client/annals.1", "client/libannals.3",
			    "daemon/annalsd.8" };
	const char	*argv[] = { "groff", "-k", "-man", "-Tutf8", "-z",
			    "-ww", NULL, NULL };
	char		 path[PATH_MAX], out[PATH_MAX], err[PATH_MAX];
	char		*s;
	size_t		 i;

	if (system("command -v groff >/dev/null 2>&1") != 0)
		T_SKIP("no groff on PATH (Debian package groff-base)");
	snprintf(out, sizeof out, "%s/groff.out", t_dir());
	snprintf(err, sizeof err, "%s/groff.err", t_dir());
	for (i = 0; i < sizeof pages / sizeof *pages; i++) {
		snprintf(path, sizeof path, "%s/%s", docs_root(), pages[i]);
		argv[6] = path;
		T_EQ_INT(th_spawn(argv, NULL, out, err, 0), 0);
		s = th_slurp(err, NULL);
		T_ASSERTF(*s == '\0', "%s: groff warns:\n%s", pages[i], s);
		free(s);
	}
}

/*
 * The tools tests need beside the build deps (groff above, jq in
 * t-cli-edit, systemd-sysusers in t-install) are missing only where they
 * cannot be had: the deps step names their packages with the others, so
 * make installs them as root on a fresh machine, or says to.  make -n
 * prints the step's checks.
 */
TEST(docs_test_tools_are_in_the_deps_step)
{
	const char	*argv[] = { "make", "-n", "-s", "-C", NULL, NULL,
			    "deps", NULL };
	char		 bdir[PATH_MAX + 8], out[PATH_MAX], err[PATH_MAX];
	char		*s;

	argv[4] = docs_root();
	/* A build directory of its own, whose stamp is not there yet. */
	snprintf(bdir, sizeof bdir, "B=%s/b", t_dir());
	argv[5] = bdir;
	snprintf(out, sizeof out, "%s/make.out", t_dir());
	snprintf(err, sizeof err, "%s/make.err", t_dir());
	T_EQ_INT(th_spawn(argv, NULL, out, err, 0), 0);
	s = th_slurp(out, NULL);
	T_ASSERTF(strstr(s, "tests/deps.sh deps ") != NULL, "%s", s);
	T_ASSERTF(strstr(s, " cmd:groff:groff-base") != NULL, "%s", s);
	T_ASSERTF(strstr(s, " cmd:jq:jq") != NULL, "%s", s);
	T_ASSERTF(strstr(s, " cmd:systemd-sysusers:systemd") != NULL, "%s",
	    s);
	free(s);
}
