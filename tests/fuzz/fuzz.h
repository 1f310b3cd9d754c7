/*
 * The fuzz harnesses.  Each tests/fuzz/fuzz-<name>.c defines fuzz_<name>(),
 * which takes one input of any bytes and checks what the code under test
 * promises about it, calling abort() when a promise is broken.  Built with
 * -DFUZZ_LIBFUZZER it also defines libFuzzer's entry point (make fuzz);
 * without it the same functions are linked into the test runner, where
 * tests/t-fuzz-regress.c replays the seed corpora and every input that
 * once crashed (tests/fuzz/regress/<name>/).
 */
#ifndef ANNALS_FUZZ_H
#define ANNALS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

struct aerr;
struct date_span;
struct event;

/* X(name): one line per harness, in the order make fuzz runs them. */
#define FUZZ_TARGETS(X)							\
	X(frame) X(record) X(request) X(date)				\
	X(view) X(gdelt) X(acled) X(icews) X(csv) X(jsonl)		\
	X(storepos)

#define FUZZ_DECLARE(name) void fuzz_##name(const uint8_t *, size_t);
FUZZ_TARGETS(FUZZ_DECLARE)
#undef FUZZ_DECLARE

/* A broken promise: say which, then abort so that either side sees it. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond))							\
		fuzz_fail(__FILE__, __LINE__, #cond);			\
} while (0)

void	 fuzz_fail(const char *, int, const char *)
	    __attribute__((noreturn));
/* An error that a decoder returned must be fit for the wire. */
void	 fuzz_check_error(const struct aerr *, int);
int	 fuzz_unpack(const uint8_t *, size_t, msgpack_unpacked *,
	    unsigned char **);
int	 fuzz_str_ok(const char *, size_t);
void	 fuzz_check_span(const struct date_span *);
int	 fuzz_span_eq(const struct date_span *, const struct date_span *);
void	 fuzz_check_event(const struct event *);
/* tests/fuzz/import.c: one row of an import format (client/import.h). */
struct import_format;
struct import_opts;
void	 fuzz_import(const struct import_format *, int, int, int,
	     const uint8_t *, size_t);
/* annals import's defaults: rows without a key keyed by their content. */
extern const struct import_opts fuzz_import_opts;
void	 fuzz_check_import(const struct event *, int);

#ifdef FUZZ_LIBFUZZER
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);
#define FUZZ_ENTRY(name)						\
int									\
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)		\
{									\
	fuzz_##name(data, size);					\
	return (0);							\
}
#else
#define FUZZ_ENTRY(name)
#endif

#endif
