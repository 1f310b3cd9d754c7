/*
 * annals import of rows without a key (annals' own JSON lines and CSV):
 * each is keyed by its content, so that a script importing the same dump
 * again and again adds nothing.  The built binary against the real
 * daemon: twice is once, identical rows are one event, an edited row is
 * a new one, --source and --no-content-key, export | import into an
 * empty daemon twice; and one key pinned, since keys must not change
 * between runs, machines or releases.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../client/import.h"
#include "harness.h"
#include "test.h"

/*
 * annals import ARGS... adds add events and finds unch unchanged, and
 * its summary says that keyed rows were keyed by their content (nothing
 * of content when none were).
 */
#define IK_IMPORT(sock, in, add, unch, keyed, ...) do {			\
	struct th_run	ik_r_;						\
									\
	TH_ANNALS(&ik_r_, (sock), (in), 0, "import", __VA_ARGS__);	\
	ik_summary(&ik_r_, (add), (unch), (keyed));			\
	th_run_free(&ik_r_);						\
} while (0)

/* Rows without a key: three JSON lines and two CSV rows. */
static const char ik_jsonl[] =
    "{\"start\":\"2015-01-02\",\"actors\":[\"RUS\"],\"title\":\"Row A\"}\n"
    "{\"start\":\"2015-01-03\",\"actors\":[{\"name\":\"UKR\","
    "\"role\":\"target\"}],\"title\":\"Row B\",\"tags\":[\"x\"]}\n"
    "{\"start\":\"2015-01-04\",\"actors\":[\"BLR\"],\"title\":\"Row C\","
    "\"attrs\":{\"n\":1}}\n";
static const char ik_csv[] =
    "start,actors,title,text\n"
    "2015-02-01,RUS:source;UKR,Row D,\"two\nlines\"\n"
    "2015-02-02,BLR,Row E,\n";

/* One row, pinned: its key must never change (see ik_pinned_key). */
static const char ik_pin_jsonl[] =
    "{\"start\":\"2015-02-03\",\"actors\":[{\"name\":\"RUS\","
    "\"role\":\"source\"},{\"name\":\"BLR\"}],\"type\":\"040\","
    "\"title\":\"Talks in Minsk\",\"place\":{\"name\":\"Minsk\","
    "\"country\":\"BLR\",\"lat\":53.9,\"lon\":27.5667},"
    "\"tags\":[\"talks\"],\"attrs\":{\"n\":1}}";
static const char *const ik_pin_cols[] = {
	"start", "actors", "type", "title", "place", "country", "lat", "lon",
	"tags", "attrs"
};
static const char *const ik_pin_csv[] = {
	"2015-02-03", "RUS:source;BLR", "040", "Talks in Minsk", "Minsk",
	"BLR", "53.9", "27.5667", "talks", "{\"n\":1}"
};
/*
 * FNV-1a of the record's msgpack bytes (start, actors, type, title,
 * place, tags, attrs), computed apart from annals, by a few lines of
 * Python over the bytes msgpack's specification gives.
 */
#define IK_PIN_KEY	"content:bab5180fd6004a9e"

/* Write text to name in the test's directory; returns the path. */
static const char *
ik_file(const char *name, const char *text)
{
	static char	path[4][1024];
	static int	n;
	char		*p = path[n++ % 4];

	snprintf(p, sizeof path[0], "%s/%s", t_dir(), name);
	th_write(p, text, strlen(text));
	return (p);
}

/* What IK_IMPORT checks of the summary. */
static void
ik_summary(const struct th_run *r, uint64_t add, uint64_t unch,
    unsigned keyed)
{
	char	want[64];

	T_ASSERTF(r->added == add && r->updated == 0 && r->unchanged == unch &&
	    r->rejected == 0, "wanted added %" PRIu64 ", unchanged %" PRIu64
	    ": %s", add, unch, r->err);
	if (keyed == 0) {
		T_ASSERTF(strstr(r->err, "content") == NULL &&
		    strstr(r->err, " s)\n") != NULL, "%s", r->err);
		return;
	}
	snprintf(want, sizeof want, " s; %u keyed by content)\n", keyed);
	T_ASSERTF(strstr(r->err, want) != NULL, "wanted \"%s\" in: %s", want,
	    r->err);
}

static const char *
ik_str(json_t *ev, const char *field)
{
	return (json_string_value(json_object_get(ev, field)));
}

/* Whether key is "content:" and 16 lowercase hex digits. */
static int
ik_is_content_key(const char *key)
{
	return (key != NULL && strlen(key) == 24 &&
	    strncmp(key, "content:", 8) == 0 &&
	    strspn(key + 8, "0123456789abcdef") == 16);
}

/*
 * The n events of evs, but the one titled but (or none), have the source
 * and a content key.
 */
static void
ik_all_content(json_t *evs, size_t n, const char *source, const char *but)
{
	json_t	*ev;
	size_t	 i;

	T_EQ_INT(json_array_size(evs), n);
	json_array_foreach(evs, i, ev) {
		if (but != NULL && strcmp(ik_str(ev, "title"), but) == 0)
			continue;
		T_EQ_STR(ik_str(ev, "source"), source);
		T_ASSERTF(ik_is_content_key(ik_str(ev, "key")), "key %s",
		    ik_str(ev, "key"));
	}
}

/* The event titled title, which must be there once. */
static json_t *
ik_titled(json_t *evs, const char *title)
{
	json_t	*ev, *found = NULL;
	size_t	 i;

	json_array_foreach(evs, i, ev) {
		if (ik_str(ev, "title") != NULL &&
		    strcmp(ik_str(ev, "title"), title) == 0) {
			T_ASSERTF(found == NULL, "two events titled %s", title);
			found = ev;
		}
	}
	T_ASSERTF(found != NULL, "no event titled %s", title);
	return (found);
}

/*
 * The key of the event titled title, which has the source and a content
 * key; the caller frees it.
 */
static char *
ik_content_key(const char *sock, const char *title, const char *source)
{
	json_t	*evs, *ev;
	char	*key;

	evs = th_export(sock, NULL);
	ev = ik_titled(evs, title);
	T_EQ_STR(ik_str(ev, "source"), source);
	T_ASSERTF(ik_is_content_key(ik_str(ev, "key")), "%s: key %s", title,
	    ik_str(ev, "key"));
	T_ASSERT((key = strdup(ik_str(ev, "key"))) != NULL);
	json_decref(evs);
	return (key);
}

TEST(import_key_keyless_rows_imported_twice_are_unchanged)
{
	struct th_daemon	 d;
	const char		*jl, *csv;
	json_t			*evs, *ev;

	jl = ik_file("dump.jsonl", ik_jsonl);
	csv = ik_file("dump.csv", ik_csv);
	T_OK(th_daemon_start(&d, NULL));
	IK_IMPORT(d.sock, NULL, 5, 0, 5, jl, csv);
	T_EQ_U64(th_event_count(d.sock), 5);
	/* Each file again, on its own: nothing added, each row unchanged. */
	IK_IMPORT(d.sock, NULL, 0, 3, 3, jl);
	IK_IMPORT(d.sock, NULL, 0, 2, 2, csv);
	T_EQ_U64(th_event_count(d.sock), 5);

	evs = th_export(d.sock, NULL);
	ik_all_content(evs, 5, "import", NULL);
	/* The rows are stored as they were, with the key beside them. */
	ev = ik_titled(evs, "Row D");
	T_EQ_STR(ik_str(ev, "text"), "two\nlines");
	T_EQ_INT(json_array_size(json_object_get(ev, "actors")), 2);
	json_decref(evs);
	T_OK(th_daemon_stop(&d));
}

TEST(import_key_keyless_rows_take_the_source_option)
{
	struct th_daemon	 d;
	json_t			*evs;

	T_OK(th_daemon_start(&d, NULL));
	IK_IMPORT(d.sock, NULL, 5, 0, 5, "--source", "dumps",
	    ik_file("dump.jsonl", ik_jsonl), ik_file("dump.csv", ik_csv));
	IK_IMPORT(d.sock, NULL, 0, 3, 3, "--source", "dumps",
	    ik_file("dump.jsonl", ik_jsonl));
	evs = th_export(d.sock, NULL);
	ik_all_content(evs, 5, "dumps", NULL);
	json_decref(evs);

	/*
	 * A row's own source stays when no --source is given; without a
	 * key it was refused before ("key: required with source").
	 */
	IK_IMPORT(d.sock, NULL, 1, 0, 1, ik_file("own.jsonl",
	    "{\"source\":\"feed\",\"start\":\"2016\",\"actors\":[\"RUS\"],"
	    "\"title\":\"Own source\"}\n"));
	free(ik_content_key(d.sock, "Own source", "feed"));
	T_OK(th_daemon_stop(&d));
}

TEST(import_key_identical_rows_are_one_event_keyed_rows_keep_theirs)
{
	struct th_daemon	 d;
	json_t			*evs, *ev;

	T_OK(th_daemon_start(&d, NULL));
	IK_IMPORT(d.sock, NULL, 2, 1, 2, ik_file("twice.jsonl",
	    "{\"start\":\"2015-03\",\"actors\":[\"RUS\"],\"title\":\"Same\"}\n"
	    "{\"source\":\"demo\",\"key\":\"k1\",\"start\":\"2015-03\","
	    "\"actors\":[\"RUS\"],\"title\":\"Keyed\"}\n"
	    "{\"start\":\"2015-03\",\"actors\":[\"RUS\"],"
	    "\"title\":\"Same\"}\n"));
	T_EQ_U64(th_event_count(d.sock), 2);
	evs = th_export(d.sock, NULL);
	ik_all_content(evs, 2, "import", "Keyed");
	ev = ik_titled(evs, "Keyed");
	T_EQ_STR(ik_str(ev, "source"), "demo");
	T_EQ_STR(ik_str(ev, "key"), "k1");
	json_decref(evs);
	/* Rows that all have keys: the summary says nothing of content. */
	IK_IMPORT(d.sock, NULL, 1, 0, 0, ik_file("keyed.jsonl",
	    "{\"source\":\"demo\",\"key\":\"k2\",\"start\":\"2015-03\","
	    "\"actors\":[\"RUS\"]}\n"));
	T_OK(th_daemon_stop(&d));
}

TEST(import_key_no_content_key_adds_keyless_rows_every_time)
{
	struct th_daemon	 d;
	struct th_run		 r;
	const char		*jl, *csv;
	json_t			*evs, *ev;
	size_t			 i;

	jl = ik_file("log.jsonl", ik_jsonl);
	csv = ik_file("log.csv", ik_csv);
	T_OK(th_daemon_start(&d, NULL));
	IK_IMPORT(d.sock, NULL, 5, 0, 0, "--no-content-key", jl, csv);
	IK_IMPORT(d.sock, NULL, 5, 0, 0, "--no-content-key", jl, csv);
	T_EQ_U64(th_event_count(d.sock), 10);
	evs = th_export(d.sock, NULL);
	json_array_foreach(evs, i, ev) {
		T_ASSERT(json_object_get(ev, "source") == NULL);
		T_ASSERT(json_object_get(ev, "key") == NULL);
	}
	json_decref(evs);

	/* As before it: a row with a source and no key is refused. */
	TH_ANNALS(&r, d.sock, NULL, 1, "import", "--no-content-key",
	    ik_file("own.jsonl", "{\"source\":\"feed\",\"start\":\"2016\","
	    "\"actors\":[\"RUS\"]}\n"));
	T_ASSERTF(strstr(r.err, "own.jsonl:1: key: required with source") !=
	    NULL, "%s", r.err);
	th_run_free(&r);
	T_EQ_U64(th_event_count(d.sock), 10);
	T_OK(th_daemon_stop(&d));
}

TEST(import_key_edited_keyless_row_is_a_new_event)
{
	struct th_daemon	 d;
	char			*old_key, *new_key;

	T_OK(th_daemon_start(&d, NULL));
	IK_IMPORT(d.sock, NULL, 3, 0, 3, ik_file("dump.jsonl", ik_jsonl));
	/* Row A's title edited in the file: give rows a key to edit them. */
	IK_IMPORT(d.sock, NULL, 1, 0, 1, ik_file("edited.jsonl",
	    "{\"start\":\"2015-01-02\",\"actors\":[\"RUS\"],"
	    "\"title\":\"Row A, edited\"}\n"));
	T_EQ_U64(th_event_count(d.sock), 4);
	old_key = ik_content_key(d.sock, "Row A", "import");
	new_key = ik_content_key(d.sock, "Row A, edited", "import");
	T_ASSERT(strcmp(old_key, new_key) != 0);
	free(old_key);
	free(new_key);
	T_OK(th_daemon_stop(&d));
}

/*
 * Events added by hand have no source and no key, and export writes
 * none: imported into an empty daemon they are keyed by their content,
 * so importing the export again (as JSON lines or CSV) adds nothing.
 */
TEST(import_key_export_into_an_empty_daemon_twice_adds_nothing)
{
	struct th_daemon	 a, b;
	struct th_run		 r;
	char			 dir[1024], jl[1024], csv[1024];
	const char		*src;
	json_t			*evs;

	T_OK(th_daemon_start(&a, NULL));
	TH_ANNALS(&r, a.sock, ik_file("hand.jsonl", ik_jsonl), 0, "add", "-");
	th_run_free(&r);
	TH_ANNALS(&r, a.sock, ik_file("keyed.jsonl",
	    "{\"source\":\"demo\",\"key\":\"k1\",\"start\":\"2015-03\","
	    "\"actors\":[\"RUS\"],\"title\":\"Keyed\"}\n"), 0, "add", "-");
	th_run_free(&r);
	T_EQ_U64(th_event_count(a.sock), 4);
	snprintf(jl, sizeof jl, "%s/a.jsonl", t_dir());
	snprintf(csv, sizeof csv, "%s/a.csv", t_dir());
	TH_ANNALS(&r, a.sock, NULL, 0, "export");
	/* The keyed event's source is the only one. */
	T_ASSERT((src = strstr(r.out, "\"source\"")) != NULL &&
	    strstr(src + 1, "\"source\"") == NULL);
	th_write(jl, r.out, strlen(r.out));
	th_run_free(&r);
	TH_ANNALS(&r, a.sock, NULL, 0, "export", "--format", "csv");
	th_write(csv, r.out, strlen(r.out));
	th_run_free(&r);
	T_OK(th_daemon_stop(&a));

	snprintf(dir, sizeof dir, "%s/b", t_dir());
	T_OK(mkdir(dir, 0700));
	T_OK(th_daemon_start_in(&b, dir, NULL));
	IK_IMPORT(b.sock, jl, 4, 0, 3, "-");
	IK_IMPORT(b.sock, jl, 0, 4, 3, "-");
	/* The CSV export keys each row as its JSON line did. */
	IK_IMPORT(b.sock, NULL, 0, 4, 3, csv);
	T_EQ_U64(th_event_count(b.sock), 4);
	evs = th_export(b.sock, NULL);
	ik_all_content(evs, 4, "import", "Keyed");
	T_EQ_STR(ik_str(ik_titled(evs, "Keyed"), "key"), "k1");
	json_decref(evs);
	T_OK(th_daemon_stop(&b));
}

/*
 * The key of a fixed row, through both parsers and through annals
 * import, is the one computed apart: it depends on the record's bytes
 * alone, not on where they lie in memory, the locale or the format the
 * row came in.
 */
TEST(import_key_pinned_for_a_fixed_row)
{
	const struct import_opts	 opts = { NULL, 1 };
	struct import_header		 h;
	struct th_daemon		 d;
	struct event			 ev;
	struct aerr			 err;
	char				 line[1024], *key;
	int				 i;

	for (i = 0; i < 2; i++) {
		aerr_clear(&err);
		T_EQ_INT(import_jsonl_row(ik_pin_jsonl, strlen(ik_pin_jsonl),
		    &opts, &ev, &err), IMPORT_ROW_CONTENT);
		T_EQ_STR(ev.key, IK_PIN_KEY);
		T_EQ_STR(ev.source, "import");
		record_clear(&ev);
	}
	aerr_clear(&err);
	T_OK(import_header_init(&h, &import_csv_format, ik_pin_cols,
	    sizeof ik_pin_cols / sizeof ik_pin_cols[0], &err));
	T_EQ_INT(import_row(&h, ik_pin_csv, sizeof ik_pin_csv /
	    sizeof ik_pin_csv[0], &opts, &ev, &err), IMPORT_ROW_CONTENT);
	T_EQ_STR(ev.key, IK_PIN_KEY);
	record_clear(&ev);
	import_header_clear(&h);

	snprintf(line, sizeof line, "%s\n", ik_pin_jsonl);
	setenv("LC_ALL", "C.UTF-8", 1);
	T_OK(th_daemon_start(&d, NULL));
	IK_IMPORT(d.sock, NULL, 1, 0, 1, ik_file("pin.jsonl", line));
	key = ik_content_key(d.sock, "Talks in Minsk", "import");
	T_EQ_STR(key, IK_PIN_KEY);
	free(key);
	T_OK(th_daemon_stop(&d));
}
