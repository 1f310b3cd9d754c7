/*
 * The Python client (contrib/python): each file of tests/python is run
 * by pytest under Debian's /usr/bin/python3 (the python3 first on PATH
 * may lack Debian's python3-msgpack and python3-pytest) against the
 * annalsd of this build.  pytest's report is the test's output; its
 * exit status is the verdict, so the runner's closing line stays the
 * only summary.
 */
#include <sys/wait.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

static void
python_run(const char *file)
{
	char	 bindir[PATH_MAX], root[PATH_MAX], path[PATH_MAX + 32];
	pid_t	 pid;
	int	 status;

	/* The runner sits in the build directory, inside the checkout. */
	snprintf(bindir, sizeof bindir, "%s", t_bindir());
	snprintf(root, sizeof root, "%s", dirname(bindir));
	snprintf(path, sizeof path, "%s/tests/python/%s", root, file);
	T_ASSERT((pid = fork()) != -1);
	if (pid == 0) {
		dup2(2, 1);
		setenv("ANNALS_BUILD", t_bindir(), 1);
		setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
		/* The daemons' directories go where the test's does. */
		setenv("TMPDIR", t_dir(), 1);
		/* The full path as argv[0] too, or sys.executable (used
		 * by the tests to run pip) is looked up on PATH. */
		execl("/usr/bin/python3", "/usr/bin/python3", "-m", "pytest", "-q",
		    "-p", "no:cacheprovider", "--rootdir", root, path,
		    (char *)NULL);
		fprintf(stderr, "/usr/bin/python3: %s\n", strerror(errno));
		_exit(127);
	}
	T_ASSERT(waitpid(pid, &status, 0) == pid);
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "pytest %s failed (above)", file);
}

TEST(python_client_calls_and_errors)
{
	python_run("test_client.py");
}

TEST(python_bulk_put_and_paging)
{
	python_run("test_bulk.py");
}

TEST(python_dates_match_the_daemon)
{
	python_run("test_dates.py");
}

TEST(python_subscribe_and_resume)
{
	python_run("test_subscribe.py");
}

TEST(python_frames_near_the_limit)
{
	python_run("test_frames.py");
}

TEST(python_dataframes)
{
	python_run("test_dataframe.py");
}

TEST(python_readme_tour_runs)
{
	python_run("test_readme.py");
}

TEST(python_pip_install)
{
	python_run("test_install.py");
}
