/*
 * The test framework: TEST(name) defines a test that tests/runner runs
 * in a forked child with its own temporary directory.  Assertions print
 * the file, line, expression and values, then end the child with a
 * failure status.  A test is skipped only through T_SKIP(), and in
 * the suite only for data a clone does not carry (../shared/data); what
 * such a test checks also runs on the fixtures of tests/data in a test
 * that never skips.
 */
#ifndef ANNALS_TEST_H
#define ANNALS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The prototype keeps -Wmissing-prototypes on for test files too. */
#define TEST(name)							\
	void test_##name(void);						\
	void test_##name(void)

#define T_FAIL(...) do {						\
	fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);			\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	exit(1);							\
} while (0)

#define T_ASSERT(cond) do {						\
	if (!(cond))							\
		T_FAIL("assertion failed: %s", #cond);			\
} while (0)

#define T_ASSERTF(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: assertion failed: %s: ",	\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		exit(1);						\
	}								\
} while (0)

#define T_EQ_INT(a, b) do {						\
	long long t_a_ = (long long)(a), t_b_ = (long long)(b);		\
	if (t_a_ != t_b_)						\
		T_FAIL("%s == %s: %lld != %lld", #a, #b, t_a_, t_b_);	\
} while (0)

#define T_EQ_U64(a, b) do {						\
	uint64_t t_a_ = (uint64_t)(a), t_b_ = (uint64_t)(b);		\
	if (t_a_ != t_b_)						\
		T_FAIL("%s == %s: %" PRIu64 " != %" PRIu64, #a, #b,	\
		    t_a_, t_b_);					\
} while (0)

#define T_EQ_STR(a, b) do {						\
	const char *t_a_ = (a), *t_b_ = (b);				\
	if (t_a_ == NULL || t_b_ == NULL || strcmp(t_a_, t_b_) != 0)	\
		T_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b,		\
		    t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");	\
} while (0)

/*
 * End the test as skipped, with a reason the runner shows.  The status
 * alone is not enough: a program the test ran could exit with it too, so
 * the runner also wants the reason file t_skip() writes.
 */
#define T_SKIP_STATUS	77
#define T_SKIP(...)	t_skip(__VA_ARGS__)

/* A call that returns 0 on success. */
#define T_OK(call) do {							\
	long long t_r_ = (long long)(call);				\
	if (t_r_ != 0)							\
		T_FAIL("%s returned %lld", #call, t_r_);		\
} while (0)

/* The test's own temporary directory, removed after a passing run. */
const char	*t_dir(void);
/* The seed of a randomized test: $ANNALS_TEST_SEED or a fresh one. */
unsigned	 t_seed(void);
/* The directory holding the built binaries (annalsd, annals). */
const char	*t_bindir(void);
/* ../shared/data when it exists, else NULL. */
const char	*t_shared_data(void);
/* ../shared/data, or skip the test when it is missing. */
const char	*t_shared_data_or_skip(void);
void		 t_skip(const char *, ...)
		    __attribute__((noreturn, format(printf, 1, 2)));

#endif
