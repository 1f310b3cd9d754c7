/*
 * The runner itself: a test that calls T_SKIP() is reported and counted
 * as skipped, with its reason; one that only exits with the skip status
 * fails.  The runner is run again on runner_probe, which does what
 * $ANNALS_TEST_PROBE asks and passes when it is unset.
 */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

TEST(runner_probe)
{
	const char	*probe = getenv("ANNALS_TEST_PROBE");

	if (probe == NULL)
		return;
	if (strcmp(probe, "skip") == 0)
		T_SKIP("asked to %s", probe);
	if (strcmp(probe, "exit") == 0)
		exit(T_SKIP_STATUS);
	T_FAIL("ANNALS_TEST_PROBE=%s", probe);
}

/* Run the runner on pattern with the probe set; its exit status. */
static int
runner_run(const char *probe, const char *pattern, char *out, size_t size)
{
	char	 cmd[4200];
	size_t	 n;
	FILE	*p;
	int	 status;

	snprintf(cmd, sizeof cmd, "%s%s %s/runner -j 1 %s", probe != NULL ?
	    "ANNALS_TEST_PROBE=" : "", probe != NULL ? probe : "",
	    t_bindir(), pattern);
	T_ASSERT((p = popen(cmd, "r")) != NULL);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	status = pclose(p);
	T_ASSERTF(WIFEXITED(status), "%s: status %d", cmd, status);
	return (WEXITSTATUS(status));
}

TEST(runner_counts_skips_apart)
{
	char	out[8192];

	T_EQ_INT(runner_run("skip", "runner_probe", out, sizeof out), 0);
	T_ASSERTF(strstr(out, "\nskip t-runner: runner_probe (asked to "
	    "skip)\n") != NULL, "%s", out);
	T_ASSERTF(strstr(out, "\n0 passed, 0 failed, 1 skipped\n") != NULL,
	    "%s", out);

	/* The status without the reason is some program's exit: a failure. */
	T_EQ_INT(runner_run("exit", "runner_probe", out, sizeof out), 1);
	T_ASSERTF(strstr(out, "\nFAIL t-runner: runner_probe (") != NULL &&
	    strstr(out, "[exit 77]\n") != NULL, "%s", out);
	T_ASSERTF(strstr(out, "\n0 passed, 1 failed, 0 skipped\n") != NULL,
	    "%s", out);

	T_EQ_INT(runner_run(NULL, "runner_probe", out, sizeof out), 0);
	T_ASSERTF(strstr(out, "\n1 passed, 0 failed, 0 skipped\n") != NULL,
	    "%s", out);
	/* A pattern that matches nothing. */
	T_EQ_INT(runner_run(NULL, "no_such_test_anywhere", out, sizeof out),
	    1);
	T_ASSERTF(strstr(out, "\n0 passed, 0 failed, 0 skipped\n") != NULL,
	    "%s", out);
}
