/*
 * The fuzz harnesses in the normal suite: every seed of every corpus
 * (tests/fuzz/corpus/<name>/) and every input that once made a harness
 * fail (tests/fuzz/regress/<name>/, named after the bug) goes through
 * the same checks make fuzz runs, here under gcc or clang and, with
 * make test-san, under ASan and UBSan.  Each input runs in a child of
 * its own: a harness that finds a broken promise aborts it, and the
 * test fails naming every such input.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"
#include "fuzz/fuzz.h"

#define FUZZ_MIN_SEEDS	10		/* a corpus smaller is a mistake */
#define FUZZ_MAX_INPUT	(1u << 20)

/* tests/fuzz of the source tree, found upwards from the runner. */
static const char *
fuzz_dir(void)
{
	static char	 path[4200];
	struct stat	 sb;
	char		 probe[4300], *p;
	int		 up;

	snprintf(path, sizeof path, "%s", t_bindir());
	for (up = 0; up < 3; up++) {
		if ((p = strrchr(path, '/')) == NULL)
			break;
		*p = '\0';
		snprintf(probe, sizeof probe, "%s/tests/fuzz/fuzz.h", path);
		if (stat(probe, &sb) == 0) {
			strncat(path, "/tests/fuzz", sizeof path -
			    strlen(path) - 1);
			return (path);
		}
	}
	T_FAIL("tests/fuzz not found above %s", t_bindir());
}

/*
 * Run every file of dir through fn, each in a child of its own so that
 * every failing input is named, not only the first.  Returns how many
 * files there were; *failed counts those that made fn fail.
 */
static size_t
fuzz_replay_dir(const char *dir, void (*fn)(const uint8_t *, size_t),
    size_t *failed)
{
	struct dirent	*de;
	DIR		*d;
	FILE		*f;
	unsigned char	*buf;
	char		 path[4600];
	size_t		 n, count = 0;
	pid_t		 pid;
	int		 status;

	if ((d = opendir(dir)) == NULL)
		return (0);
	buf = malloc(FUZZ_MAX_INPUT);
	T_ASSERT(buf != NULL);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		T_ASSERTF((f = fopen(path, "rb")) != NULL, "%s", path);
		n = fread(buf, 1, FUZZ_MAX_INPUT, f);
		T_ASSERTF(!ferror(f) && feof(f), "%s: unreadable or over "
		    "%u bytes", path, FUZZ_MAX_INPUT);
		fclose(f);
		count++;
		fflush(stdout);
		T_ASSERT((pid = fork()) != -1);
		if (pid == 0) {
			fn(buf, n);
			_exit(0);
		}
		T_ASSERT(waitpid(pid, &status, 0) == pid);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			continue;
		/* Its complaint went to stderr just before. */
		printf("FAILED: %s (%zu bytes)\n", path, n);
		(*failed)++;
	}
	closedir(d);
	free(buf);
	return (count);
}

/* Replay the seeds and the regression inputs of one harness. */
static void
fuzz_replay(const char *name, void (*fn)(const uint8_t *, size_t))
{
	const char	*top = fuzz_dir();
	char		 dir[4400];
	size_t		 seeds, regress, failed = 0;

	snprintf(dir, sizeof dir, "%s/corpus/%s", top, name);
	seeds = fuzz_replay_dir(dir, fn, &failed);
	T_ASSERTF(seeds >= FUZZ_MIN_SEEDS, "%s: %zu seeds, want at least %d",
	    dir, seeds, FUZZ_MIN_SEEDS);
	snprintf(dir, sizeof dir, "%s/regress/%s", top, name);
	regress = fuzz_replay_dir(dir, fn, &failed);
	printf("%s: %zu seeds and %zu regression inputs replayed, %zu "
	    "failed\n", name, seeds, regress, failed);
	T_ASSERTF(failed == 0, "%s: %zu inputs break a promise of the code "
	    "under test (see above)", name, failed);
}

/* One test per harness: fuzz_regress_frame, fuzz_regress_record, ... */
#define FUZZ_TEST(name)							\
	TEST(fuzz_regress_##name)					\
	{								\
		fuzz_replay(#name, fuzz_##name);			\
	}
FUZZ_TARGETS(FUZZ_TEST)
#undef FUZZ_TEST
