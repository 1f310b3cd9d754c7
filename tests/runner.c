/*
 * The test runner.  Every test runs in a forked child, in a process group
 * of its own, inside a fresh temporary directory, with its output captured
 * to a file that is shown only when it fails.  A test that crashes, exits
 * non-zero or outlives its timeout fails; killing the whole group
 * afterwards takes any daemon it started down with it.  A test that
 * called T_SKIP() is counted apart, with its reason.
 *
 * Usage: runner [-v] [-j N] [-t SECONDS] [PATTERN]
 * Ends with the line "N passed, N failed, N skipped".
 */
#define _XOPEN_SOURCE 700
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"
#include "test.h"

/* How a test ended. */
#define RUNNER_FAILED	0
#define RUNNER_PASSED	1
#define RUNNER_SKIPPED	2

struct slot {
	const struct t_case	*tc;
	pid_t			 pid;
	char			 dir[64];
	char			 out[96];
	struct timespec		 started;
};

static char	 t_dir_path[64];
static char	 t_bin_path[PATH_MAX];
static unsigned	 t_seed_value;
static int	 verbose;
static int	 timeout_sec = 120;

const char *
t_dir(void)
{
	return (t_dir_path);
}

const char *
t_bindir(void)
{
	return (t_bin_path);
}

unsigned
t_seed(void)
{
	return (t_seed_value);
}

const char *
t_shared_data(void)
{
	static char	 path[PATH_MAX];
	const char	*env;
	struct stat	 sb;

	int		 n;

	/* The runner sits in build/, beside the checkout's ../shared. */
	if ((env = getenv("ANNALS_SHARED_DATA")) != NULL)
		n = snprintf(path, sizeof path, "%s", env);
	else
		n = snprintf(path, sizeof path, "%.*s/../../shared/data",
		    (int)(sizeof path - 32), t_bin_path);
	if (n < 0 || (size_t)n >= sizeof path)
		return (NULL);
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return (path);
	return (NULL);
}

const char *
t_shared_data_or_skip(void)
{
	const char	*path;

	if ((path = t_shared_data()) != NULL)
		return (path);
	if (getenv("ANNALS_SHARED_DATA") != NULL)
		T_SKIP("ANNALS_SHARED_DATA=%s is not a directory",
		    getenv("ANNALS_SHARED_DATA"));
	T_SKIP("no ../shared/data beside the checkout; set "
	    "ANNALS_SHARED_DATA");
}

void
t_skip(const char *fmt, ...)
{
	char	 path[96];
	va_list	 ap;
	FILE	*f;

	snprintf(path, sizeof path, "%s/.skip", t_dir_path);
	if ((f = fopen(path, "w")) != NULL) {
		va_start(ap, fmt);
		vfprintf(f, fmt, ap);
		va_end(ap);
		fclose(f);
	}
	exit(T_SKIP_STATUS);
}

/* The reason a test skipped, or NULL if it did not call T_SKIP(). */
static char *
skip_reason(const struct slot *s, char *buf, size_t size)
{
	char	 path[96];
	FILE	*f;

	snprintf(path, sizeof path, "%s/.skip", s->dir);
	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	if (fgets(buf, size, f) == NULL)
		*buf = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return (buf);
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	remove(path);
	return (0);
}

static double
elapsed(const struct timespec *since)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((now.tv_sec - since->tv_sec) +
	    (now.tv_nsec - since->tv_nsec) / 1e9);
}

static void
start(struct slot *s, const struct t_case *tc)
{
	int	fd;

	s->tc = tc;
	snprintf(s->dir, sizeof s->dir, "/tmp/annals-t.XXXXXX");
	if (mkdtemp(s->dir) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(s->out, sizeof s->out, "%s/.output", s->dir);
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	fflush(stdout);
	if ((s->pid = fork()) == -1) {
		perror("fork");
		exit(2);
	}
	if (s->pid != 0) {
		/* Also here, so a kill of the group can never miss it. */
		setpgid(s->pid, s->pid);
		return;
	}

	setpgid(0, 0);
	if ((fd = open(s->out, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		_exit(3);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	if (chdir(s->dir) == -1)
		_exit(3);
	snprintf(t_dir_path, sizeof t_dir_path, "%s", s->dir);
	setvbuf(stdout, NULL, _IONBF, 0);
	alarm(timeout_sec);
	tc->fn();
	exit(0);
}

static void
show_output(const char *path)
{
	char	 buf[4096];
	size_t	 n;
	FILE	*f;

	if ((f = fopen(path, "r")) == NULL)
		return;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
}

/* Report a finished test and clean up after it; returns RUNNER_*. */
static int
finish(struct slot *s, int status)
{
	int	 ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	double	 secs = elapsed(&s->started);
	char	 reason[256];

	/* Whatever the test left running dies with it. */
	kill(-s->pid, SIGKILL);
	if (WIFEXITED(status) && WEXITSTATUS(status) == T_SKIP_STATUS &&
	    skip_reason(s, reason, sizeof reason) != NULL) {
		printf("skip %s: %s (%s)\n", s->tc->file, s->tc->name, reason);
		if (verbose)
			show_output(s->out);
		nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		s->tc = NULL;
		return (RUNNER_SKIPPED);
	}
	printf("%s %s: %s (%.2fs)", ok ? "ok  " : "FAIL", s->tc->file,
	    s->tc->name, secs);
	if (WIFSIGNALED(status))
		printf(" [%s]", WTERMSIG(status) == SIGALRM ?
		    "timeout" : strsignal(WTERMSIG(status)));
	else if (!ok)
		printf(" [exit %d]", WEXITSTATUS(status));
	putchar('\n');
	if (!ok || verbose)
		show_output(s->out);
	if (ok || getenv("ANNALS_TEST_KEEP") == NULL)
		nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		printf("     kept %s\n", s->dir);
	s->tc = NULL;
	return (ok ? RUNNER_PASSED : RUNNER_FAILED);
}

int
main(int argc, char **argv)
{
	const struct t_case	*tc;
	const char		*pattern = NULL, *env;
	struct slot		*slots;
	char			*p;
	int			 ch, jobs = 2, running = 0, passed = 0;
	int			 failed = 0, skipped = 0, i, status;
	pid_t			 pid;
	ssize_t			 n;

	while ((ch = getopt(argc, argv, "vj:t:")) != -1) {
		switch (ch) {
		case 'v':
			verbose = 1;
			break;
		case 'j':
			jobs = atoi(optarg);
			break;
		case 't':
			timeout_sec = atoi(optarg);
			break;
		default:
			fprintf(stderr,
			    "usage: runner [-v] [-j N] [-t SECONDS] [PATTERN]\n");
			return (2);
		}
	}
	if (optind < argc)
		pattern = argv[optind];
	if (jobs < 1)
		jobs = 1;

	n = readlink("/proc/self/exe", t_bin_path, sizeof t_bin_path - 1);
	if (n > 0) {
		t_bin_path[n] = '\0';
		if ((p = strrchr(t_bin_path, '/')) != NULL)
			*p = '\0';
	}
	if ((env = getenv("ANNALS_TEST_SEED")) != NULL)
		t_seed_value = (unsigned)strtoul(env, NULL, 10);
	else
		t_seed_value = (unsigned)time(NULL) ^ (unsigned)getpid();
	printf("seed %u (set ANNALS_TEST_SEED to repeat)\n", t_seed_value);
	signal(SIGPIPE, SIG_IGN);

	if ((slots = calloc(jobs, sizeof *slots)) == NULL)
		return (2);
	tc = t_cases;
	for (;;) {
		while (running < jobs && tc->fn != NULL) {
			char	full[256];

			snprintf(full, sizeof full, "%s:%s", tc->file,
			    tc->name);
			if (pattern != NULL && strstr(full, pattern) == NULL) {
				tc++;
				continue;
			}
			for (i = 0; slots[i].tc != NULL; i++)
				;
			start(&slots[i], tc++);
			running++;
		}
		if (running == 0)
			break;
		if ((pid = waitpid(-1, &status, 0)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < jobs; i++) {
			if (slots[i].tc == NULL || slots[i].pid != pid)
				continue;
			switch (finish(&slots[i], status)) {
			case RUNNER_PASSED:
				passed++;
				break;
			case RUNNER_SKIPPED:
				skipped++;
				break;
			default:
				failed++;
				break;
			}
			running--;
		}
	}
	free(slots);
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	/* A pattern that matched nothing is a mistake, not a success. */
	return (failed != 0 || passed + skipped == 0);
}
