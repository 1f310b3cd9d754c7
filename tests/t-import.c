/*
 * annals import and annals export, the built binary against the real
 * daemon: real samples with their exact counts, a second import that
 * changes nothing, every GDELT column read back from the record, bad rows
 * reported by line while the good ones land, --strict, .gz and .zip
 * input, and export | import into an empty daemon giving the same
 * database.  Each check on samples runs on the cuts of them in tests/data
 * (counted here), and again, as *_shared_* tests, on the whole samples
 * and ACLED rows of ../shared/data with the counts its README gives;
 * those skip in a clone without it.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <zlib.h>

#include "harness.h"
#include "test.h"


/* A sample file and the number of rows the importer must report. */
struct imp_sample {
	char		 path[1024];
	uint64_t	 rows;
};

/* GDELT 1.0 and 2.0, ICEWS, ACLED current and 2020, in that order. */
#define IMP_NSAMPLES	5

/* ../shared/data's samples; the row counts are its README's. */
static const struct {
	const char	*file;
	uint64_t	 rows;
} imp_shared_samples[IMP_NSAMPLES] = {
	{ "gdelt1-events-sample.tsv", 710 },
	{ "gdelt2-events-sample.tsv", 2111 },
	{ "icews-sample.tsv", 3705 },
	{ "acled-sample.csv", 200 },
	{ "acled-2020-sample.csv", 200 },
};

/* The same kinds of file in tests/data. */
static const char *const imp_fixture_samples[IMP_NSAMPLES] = {
	"sample-gdelt1.tsv",
	"sync-gdelt2.tsv",
	"sample-icews.tsv",
	"import-acled.csv",
	"import-acled-2020.csv",
};

static const char *
imp_shared(const char *file)
{
	static char	path[4][1024];
	static int	n;
	char		*p = path[n++ % 4];

	snprintf(p, sizeof path[0], "%s/%s", t_shared_data_or_skip(), file);
	return (p);
}

static const char *
imp_fixture(const char *file)
{
	static char	path[4][1024];
	static int	n;
	char		*p = path[n++ % 4];

	/* The runner sits in the build directory, inside the checkout. */
	snprintf(p, sizeof path[0], "%s/../tests/data/%s", t_bindir(), file);
	return (p);
}

/*
 * The records of a file, counted apart from the importer: lines, less a
 * header line; in CSV a line break inside quotes does not end one.
 */
static uint64_t
imp_records(const char *path, int csv, int header)
{
	char		*buf, *p;
	uint64_t	 n = 0;
	int		 quoted = 0;

	buf = th_slurp(path, NULL);
	for (p = buf; *p != '\0'; p++) {
		if (csv && *p == '"')
			quoted = !quoted;
		else if (*p == '\n' && !quoted)
			n++;
	}
	T_ASSERTF(!quoted && p > buf && p[-1] == '\n', "%s", path);
	free(buf);
	T_ASSERT(n > (uint64_t)header);
	return (n - header);
}

/* The rows of a TSV file whose column col is value. */
static uint64_t
imp_rows_with(const char *path, int col, const char *value)
{
	char		*buf, *line, *save = NULL, *p;
	uint64_t	 n = 0;
	int		 i;

	buf = th_slurp(path, NULL);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		for (p = line, i = 0; p != NULL && i < col; i++) {
			if ((p = strchr(p, '\t')) != NULL)
				p++;
		}
		if (p != NULL && strncmp(p, value, strlen(value)) == 0 &&
		    (p[strlen(value)] == '\t' || p[strlen(value)] == '\0'))
			n++;
	}
	free(buf);
	return (n);
}

/* tests/data's samples, each with its rows counted from the file. */
static void
imp_fixtures(struct imp_sample *s)
{
	size_t	i;

	for (i = 0; i < IMP_NSAMPLES; i++) {
		snprintf(s[i].path, sizeof s[i].path, "%s",
		    imp_fixture(imp_fixture_samples[i]));
		/* ICEWS has a header line, ACLED is CSV with one. */
		s[i].rows = imp_records(s[i].path, i >= 3, i >= 2);
	}
}

static void
imp_shared_samples_get(struct imp_sample *s)
{
	size_t	i;

	for (i = 0; i < IMP_NSAMPLES; i++) {
		snprintf(s[i].path, sizeof s[i].path, "%s",
		    imp_shared(imp_shared_samples[i].file));
		s[i].rows = imp_shared_samples[i].rows;
	}
}

/* The event with source and key, as JSON (the record's keys), or NULL. */
static json_t *
imp_get(const char *sock, const char *source, const char *key)
{
	json_t	*all, *v, *o = NULL;
	size_t	 i;

	all = th_export(sock, source);
	json_array_foreach(all, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "key")),
		    key) == 0) {
			o = json_incref(v);
			break;
		}
	}
	json_decref(all);
	return (o);
}

static void
imp_check_counts(const struct imp_sample *s)
{
	struct th_daemon	d;
	struct th_run		r;
	uint64_t		total = 0;
	size_t			i;

	T_OK(th_daemon_start(&d, NULL));
	for (i = 0; i < IMP_NSAMPLES; i++) {
		TH_ANNALS(&r, d.sock, NULL, 0, "import", s[i].path);
		T_ASSERTF(r.added == s[i].rows && r.rows == s[i].rows &&
		    r.rejected == 0, "%s: %llu rows: %s", s[i].path,
		    (unsigned long long)s[i].rows, r.err);
		/* Not a terminal: the summary is all there is. */
		T_ASSERTF(strncmp(r.err, "added ", 6) == 0 &&
		    strchr(r.err, '\r') == NULL, "%s", r.err);
		total += s[i].rows;
		th_run_free(&r);
	}
	T_EQ_U64(th_event_count(d.sock), total);
	for (i = 0; i < IMP_NSAMPLES; i++) {
		TH_ANNALS(&r, d.sock, NULL, 0, "import", s[i].path);
		T_ASSERTF(r.unchanged == s[i].rows && r.added == 0 &&
		    r.updated == 0, "%s: %s", s[i].path, r.err);
		th_run_free(&r);
	}
	T_EQ_U64(th_event_count(d.sock), total);
	T_OK(th_daemon_stop(&d));
}

TEST(import_samples_exact_counts_then_unchanged)
{
	struct imp_sample	s[IMP_NSAMPLES];

	imp_fixtures(s);
	imp_check_counts(s);
}

TEST(import_shared_samples_exact_counts_then_unchanged)
{
	struct imp_sample	s[IMP_NSAMPLES];

	imp_shared_samples_get(s);
	imp_check_counts(s);
}

/* The column names of GDELT from a codebook file of the samples. */
static size_t
imp_gdelt_names(const char *path, char **names, size_t max)
{
	char	*buf, *line, *save = NULL, *comma;
	size_t	 n = 0;
	int	 first = 1;

	buf = th_slurp(path, NULL);
	for (line = strtok_r(buf, "\n", &save); line != NULL && n < max;
	    line = strtok_r(NULL, "\n", &save)) {
		if (first) {
			first = 0;	/* "tableId", or the CSV header */
			continue;
		}
		if ((comma = strchr(line, ',')) != NULL)
			*comma = '\0';
		T_ASSERT((names[n++] = strdup(line)) != NULL);
	}
	free(buf);
	return (n);
}

/* Column name's text as the record keeps it: in attrs or a field. */
static const char *
imp_column(json_t *ev, const char *name, char *buf, size_t size)
{
	json_t	*v, *place;

	v = json_object_get(json_object_get(ev, "attrs"), name);
	if (v != NULL) {
		if (json_is_integer(v)) {
			snprintf(buf, size, "%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
			return (buf);
		}
		T_ASSERTF(json_is_string(v), "attrs.%s is not text", name);
		return (json_string_value(v));
	}
	place = json_object_get(ev, "place");
	if (strcmp(name, "GLOBALEVENTID") == 0)
		v = json_object_get(ev, "key");
	else if (strcmp(name, "EventCode") == 0)
		v = json_object_get(ev, "type");
	else if (strcmp(name, "SOURCEURL") == 0)
		v = json_array_get(json_object_get(ev, "urls"), 0);
	else if (strcmp(name, "ActionGeo_FullName") == 0)
		v = json_object_get(place, "name");
	else if (strcmp(name, "ActionGeo_CountryCode") == 0)
		v = json_object_get(place, "country");
	T_ASSERTF(v != NULL, "column %s is nowhere in the record", name);
	return (json_string_value(v));
}

/*
 * GDELT 2.0's names from 1.0's: an ADM2 code after each ADM1 code, as
 * the 2.0 codebook has them (../shared/data/README.md checked this).
 */
static size_t
imp_gdelt2_names(char **v1, size_t n1, char **v2, size_t max)
{
	char	*p;
	size_t	 i, n = 0;

	for (i = 0; i < n1 && n < max; i++) {
		T_ASSERT((v2[n++] = strdup(v1[i])) != NULL);
		if ((p = strstr(v1[i], "_ADM1Code")) != NULL && n < max) {
			T_ASSERT((v2[n] = strdup(v1[i])) != NULL);
			v2[n++][p - v1[i] + 4] = '2';
		}
	}
	return (n);
}

/*
 * Every column of every row of path equals its text in the record;
 * returns the number of rows.
 */
static uint64_t
imp_check_gdelt(const char *sock, const char *path, char **names,
    size_t nnames)
{
	json_t		*evs, *all, *ev;
	char		*buf, *line, *save = NULL, *f[64], *p, num[32];
	const char	*key;
	size_t		 n, i, rows = 0;

	/* key -> event, from one export of the source. */
	evs = th_export(sock, "gdelt");
	T_ASSERT((all = json_object()) != NULL);
	json_array_foreach(evs, i, ev) {
		key = json_string_value(json_object_get(ev, "key"));
		T_OK(json_object_set(all, key, ev));
	}
	json_decref(evs);

	buf = th_slurp(path, NULL);
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		for (n = 0, p = line; n < 64; n++) {
			f[n] = p;
			if ((p = strchr(p, '\t')) == NULL) {
				n++;
				break;
			}
			*p++ = '\0';
		}
		T_ASSERT(n == 57 || n == 58 || n == nnames);
		ev = json_object_get(all, f[0]);
		T_ASSERTF(ev != NULL, "event %s is missing", f[0]);
		for (i = 0; i < n; i++) {
			const char *name = names[i];

			T_ASSERTF(strcmp(imp_column(ev, name, num, sizeof num),
			    f[i]) == 0, "event %s: %s: \"%s\" != \"%s\"", f[0],
			    name, imp_column(ev, name, num, sizeof num), f[i]);
		}
		rows++;
	}
	free(buf);
	json_decref(all);
	return (rows);
}

/* Import s's GDELT 1.0 and 2.0 files; check every column of each row. */
static void
imp_check_columns(const struct imp_sample *s, char **v1, size_t n1,
    char **v2, size_t n2)
{
	struct th_daemon	 d;
	struct th_run		 r;
	size_t			 i;

	T_EQ_INT(n1, 58);
	T_EQ_INT(n2, 61);
	T_OK(th_daemon_start(&d, NULL));
	TH_ANNALS(&r, d.sock, NULL, 0, "import", s[0].path, s[1].path);
	T_EQ_U64(r.added, s[0].rows + s[1].rows);
	th_run_free(&r);
	T_EQ_U64(imp_check_gdelt(d.sock, s[0].path, v1, n1), s[0].rows);
	T_EQ_U64(imp_check_gdelt(d.sock, s[1].path, v2, n2), s[1].rows);
	for (i = 0; i < n1; i++)
		free(v1[i]);
	for (i = 0; i < n2; i++)
		free(v2[i]);
	T_OK(th_daemon_stop(&d));
}

TEST(import_gdelt_every_column_reads_back)
{
	struct imp_sample	 s[IMP_NSAMPLES];
	char			*v1[70], *v2[70];
	size_t			 n1;

	imp_fixtures(s);
	n1 = imp_gdelt_names(imp_fixture("sample-gdelt1-columns.txt"), v1,
	    70);
	imp_check_columns(s, v1, n1, v2, imp_gdelt2_names(v1, n1, v2, 70));
}

TEST(import_shared_gdelt_every_column_reads_back)
{
	struct imp_sample	 s[IMP_NSAMPLES];
	char			*v1[70], *v2[70];
	size_t			 n1, n2;

	imp_shared_samples_get(s);
	n1 = imp_gdelt_names(imp_shared("gdelt1-columns.txt"), v1, 70);
	n2 = imp_gdelt_names(imp_shared("gdelt2-columns.csv"), v2, 70);
	imp_check_columns(s, v1, n1, v2, n2);
}

TEST(import_gdelt_mixed_fixture_maps_fields)
{
	struct th_daemon	 d;
	struct th_run		 r;
	json_t			*ev, *a;

	T_OK(th_daemon_start(&d, NULL));
	TH_ANNALS(&r, d.sock, NULL, 0, "import",
	    imp_fixture("import-gdelt-mixed.tsv"));
	T_EQ_U64(r.added, 9);
	th_run_free(&r);
	/* A 2.0 row: the day, the actors by code, the place, the URL. */
	ev = imp_get(d.sock, "gdelt", "881990833");
	T_ASSERT(ev != NULL);
	T_EQ_STR(json_string_value(json_object_get(ev, "start")),
	    "2018-10-24");
	a = json_object_get(ev, "actors");
	T_EQ_INT(json_array_size(a), 1);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(a, 0),
	    "name")), "IGOEUREEC");
	/* Actor1 is empty in this row: the EU is the target. */
	T_EQ_STR(json_string_value(json_object_get(json_array_get(a, 0),
	    "role")), "target");
	T_EQ_STR(json_string_value(json_object_get(ev, "type")), "040");
	T_EQ_STR(json_string_value(json_object_get(json_object_get(ev,
	    "place"), "country")), "BO");
	T_ASSERT(json_real_value(json_object_get(json_object_get(ev,
	    "place"), "lat")) == 53.9);
	/* Counts are integers, codes and decimals text as written. */
	T_EQ_INT(json_integer_value(json_object_get(json_object_get(ev,
	    "attrs"), "NumMentions")), 10);
	T_EQ_STR(json_string_value(json_object_get(json_object_get(ev,
	    "attrs"), "GoldsteinScale")), "1.0");
	json_decref(ev);
	/* A 57-column historical row has no SOURCEURL and no urls. */
	ev = imp_get(d.sock, "gdelt", "1552829");
	T_ASSERT(ev != NULL);
	T_ASSERT(json_object_get(ev, "urls") == NULL);
	T_EQ_STR(json_string_value(json_object_get(ev, "start")),
	    "1982-01-02");
	json_decref(ev);
	T_OK(th_daemon_stop(&d));
}

TEST(import_icews_key_and_na)
{
	struct th_daemon	 d;
	struct th_run		 r;
	json_t			*ev, *attrs;

	T_OK(th_daemon_start(&d, NULL));
	TH_ANNALS(&r, d.sock, NULL, 0, "import",
	    imp_fixture("import-icews.tsv"));
	T_EQ_U64(r.added, 3);
	th_run_free(&r);
	ev = imp_get(d.sock, "icews", "32889836/2018-06-01");
	T_ASSERT(ev != NULL);
	T_EQ_STR(json_string_value(json_object_get(ev, "title")), "Consult");
	T_EQ_STR(json_string_value(json_object_get(ev, "type")), "040");
	attrs = json_object_get(ev, "attrs");
	/* NA is missing for the fields and kept as NA in attrs. */
	T_EQ_STR(json_string_value(json_object_get(attrs, "District")), "NA");
	T_EQ_INT(json_integer_value(json_object_get(attrs, "Story ID")),
	    47400351);
	T_EQ_STR(json_string_value(json_object_get(json_object_get(ev,
	    "place"), "name")), "Hanoi");
	json_decref(ev);
	T_OK(th_daemon_stop(&d));
}

/* A file without its header line is read by ICEWS's fixed layout. */
TEST(import_icews_without_header_uses_the_layout)
{
	struct th_daemon	 d;
	struct th_run		 r;
	FILE			*in, *out;
	char			 path[1024], line[8192];
	json_t			*ev;

	snprintf(path, sizeof path, "%s/events-icews.tsv", t_dir());
	T_ASSERT((in = fopen(imp_fixture("import-icews.tsv"), "r")) != NULL);
	T_ASSERT((out = fopen(path, "w")) != NULL);
	T_ASSERT(fgets(line, sizeof line, in) != NULL);	/* the header */
	while (fgets(line, sizeof line, in) != NULL)
		T_ASSERT(fputs(line, out) >= 0);
	fclose(in);
	T_OK(fclose(out));

	T_OK(th_daemon_start(&d, NULL));
	TH_ANNALS(&r, d.sock, NULL, 0, "import", path);
	T_EQ_U64(r.added, 3);
	th_run_free(&r);
	ev = imp_get(d.sock, "icews", "32889836/2018-06-01");
	T_ASSERT(ev != NULL);
	T_EQ_STR(json_string_value(json_object_get(ev, "type")), "040");
	json_decref(ev);
	T_OK(th_daemon_stop(&d));
}

TEST(import_acled_both_formats_dates_and_actors)
{
	struct th_daemon	 d;
	struct th_run		 r;
	json_t			*ev, *a;

	T_OK(th_daemon_start(&d, NULL));
	TH_ANNALS(&r, d.sock, NULL, 0, "import",
	    imp_fixture("import-acled.csv"),
	    imp_fixture("import-acled-2020.csv"));
	T_EQ_U64(r.added, 5);
	th_run_free(&r);

	ev = imp_get(d.sock, "acled", "TST1");
	T_ASSERT(ev != NULL);
	T_EQ_STR(json_string_value(json_object_get(ev, "start")),
	    "2024-05-02");
	a = json_object_get(ev, "actors");
	T_EQ_STR(json_string_value(json_object_get(json_array_get(a, 0),
	    "name")), "Militia of the North, Faction A");
	T_EQ_STR(json_string_value(json_object_get(ev, "text")),
	    "On 2 May 2024, \"Faction A\" clashed with the army near Alpha, "
	    "a market town.");
	T_EQ_STR(json_string_value(json_object_get(json_object_get(ev,
	    "attrs"), "latitude")), "10.5000");
	json_decref(ev);

	/* Month precision; a quoted field across two lines. */
	ev = imp_get(d.sock, "acled", "TST2");
	T_ASSERT(ev != NULL);
	T_EQ_STR(json_string_value(json_object_get(ev, "start")), "2024-05");
	T_ASSERT(strchr(json_string_value(json_object_get(ev, "text")),
	    '\n') != NULL);
	a = json_object_get(ev, "actors");
	T_EQ_INT(json_array_size(a), 3);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(a, 2),
	    "name")), "Students (Testland)");
	T_EQ_STR(json_string_value(json_object_get(json_array_get(a, 2),
	    "role")), "source-assoc");
	json_decref(ev);

	/* Week precision: the day, uncertain and approximate. */
	ev = imp_get(d.sock, "acled", "TST3");
	T_ASSERT(ev != NULL);
	T_EQ_STR(json_string_value(json_object_get(ev, "start")),
	    "2024-06-03%");
	json_decref(ev);

	/* The 2020 format: "21 March 2020", numeric inter codes. */
	ev = imp_get(d.sock, "acled", "TST20");
	T_ASSERT(ev != NULL);
	T_EQ_STR(json_string_value(json_object_get(ev, "start")),
	    "2020-03-21");
	T_EQ_STR(json_string_value(json_object_get(json_object_get(ev,
	    "attrs"), "event_date")), "21 March 2020");
	T_EQ_INT(json_integer_value(json_object_get(json_object_get(ev,
	    "attrs"), "interaction")), 12);
	json_decref(ev);
	ev = imp_get(d.sock, "acled", "TST21");
	T_ASSERT(ev != NULL);
	T_EQ_STR(json_string_value(json_object_get(ev, "start")),
	    "2020-03-02%");
	json_decref(ev);
	T_OK(th_daemon_stop(&d));
}

TEST(import_bad_rows_reported_good_rows_land)
{
	struct th_daemon	 d;
	struct th_run		 r;
	char			 path[256], *src, *nl, *bad;
	const char		*f;
	size_t			 len;
	FILE			*fp;
	json_t			*ev;

	T_OK(th_daemon_start(&d, NULL));
	f = imp_fixture("import-acled-bad.csv");
	TH_ANNALS(&r, d.sock, NULL, 1, "import", f);
	T_EQ_U64(r.added, 3);
	T_EQ_U64(r.rejected, 6);
	T_EQ_U64(r.rows, 9);
	T_ASSERTF(strstr(r.err, "import-acled-bad.csv:3: start: 2024-02-30 "
	    "is not a date") != NULL, "%s", r.err);
	T_ASSERT(strstr(r.err, "import-acled-bad.csv:4: column 8: quote "
	    "inside an unquoted field") != NULL);
	T_ASSERT(strstr(r.err, "import-acled-bad.csv:5: ") != NULL);
	T_ASSERT(strstr(r.err, "import-acled-bad.csv:7: 10 columns, "
	    "expected 31") != NULL);
	T_ASSERT(strstr(r.err, "import-acled-bad.csv:8: column 28: text "
	    "after the closing quote") != NULL);
	T_ASSERT(strstr(r.err, "import-acled-bad.csv:9: time_precision") !=
	    NULL);
	th_run_free(&r);
	/* The row after the unclosed quote was read again and landed. */
	T_ASSERT((ev = imp_get(d.sock, "acled", "TST34")) != NULL);
	json_decref(ev);
	T_ASSERT((ev = imp_get(d.sock, "acled", "TST38")) != NULL);
	json_decref(ev);

	/* GDELT: a short row, an impossible day, invalid UTF-8. */
	src = th_slurp(imp_fixture("import-gdelt-mixed.tsv"), &len);
	snprintf(path, sizeof path, "%s/bad.export.CSV", t_dir());
	T_ASSERT((fp = fopen(path, "w")) != NULL);
	nl = strchr(src, '\n');
	fwrite(src, 1, nl + 1 - src, fp);		/* line 1: good */
	fputs("12345\t20150101\t201501\n", fp);		/* line 2 */
	bad = strdup(nl + 1);
	memcpy(strchr(bad, '\t') + 1, "20150230", 8);
	fwrite(bad, 1, strchr(bad, '\n') + 1 - bad, fp);	/* line 3 */
	free(bad);
	/* Room for the two bytes put in below. */
	T_ASSERT((bad = malloc(strlen(nl + 1) + 3)) != NULL);
	strcpy(bad, nl + 1);
	memcpy(strchr(bad, '\t') + 1, "20150101", 8);
	{
		/* Actor1Name of the second row: the 7th field. */
		char	*p = bad;
		int	 i;

		for (i = 0; i < 6; i++)
			p = strchr(p, '\t') + 1;
		memmove(p + 2, p, strlen(p) + 1);
		p[0] = 'X';
		p[1] = (char)0xff;
	}
	fwrite(bad, 1, strchr(bad, '\n') + 1 - bad, fp);	/* line 4 */
	free(bad);
	fputs(strchr(nl + 1, '\n') + 1, fp);		/* lines 5-11: good */
	fclose(fp);
	TH_ANNALS(&r, d.sock, NULL, 1, "import", path);
	T_ASSERTF(strstr(r.err, "bad.export.CSV:2: 3 columns, expected 57, "
	    "58 (GDELT 1.0) or 61 (GDELT 2.0)") != NULL, "%s", r.err);
	T_ASSERTF(strstr(r.err, "bad.export.CSV:3: start: 2015-02-30 is not "
	    "a date") != NULL, "%s", r.err);
	T_ASSERTF(strstr(r.err, "bad.export.CSV:4: ") != NULL &&
	    strstr(r.err, "invalid UTF-8") != NULL, "%s", r.err);
	T_EQ_U64(r.rejected, 3);
	T_EQ_U64(r.rows, 11);
	T_EQ_U64(r.added, 8);
	th_run_free(&r);
	free(src);
	T_OK(th_daemon_stop(&d));
}

TEST(import_strict_changes_nothing_on_a_bad_row)
{
	struct th_daemon	 d;
	struct th_run		 r;
	uint64_t		 before;
	json_t			*ev;

	T_OK(th_daemon_start(&d, NULL));
	TH_ANNALS(&r, d.sock, NULL, 0, "import",
	    imp_fixture("import-icews.tsv"));
	th_run_free(&r);
	before = th_event_count(d.sock);
	/* The good rows of the bad file come first: none may land. */
	TH_ANNALS(&r, d.sock, NULL, 1, "import", "--strict",
	    imp_fixture("import-acled.csv"),
	    imp_fixture("import-acled-bad.csv"));
	T_ASSERT(strstr(r.err, "import-acled-bad.csv:3: ") != NULL);
	T_ASSERT(strstr(r.err, "--strict: nothing imported") != NULL);
	/* The first bad row ends the check. */
	T_ASSERT(strstr(r.err, "import-acled-bad.csv:4: ") == NULL);
	th_run_free(&r);
	T_EQ_U64(th_event_count(d.sock), before);
	T_ASSERT(imp_get(d.sock, "acled", "TST30") == NULL);
	T_ASSERT(imp_get(d.sock, "acled", "TST1") == NULL);

	/* From stdin too, which is read once into a spool. */
	TH_ANNALS(&r, d.sock, imp_fixture("import-acled-bad.csv"), 1, "import",
	    "--strict", "-");
	th_run_free(&r);
	T_EQ_U64(th_event_count(d.sock), before);
	TH_ANNALS(&r, d.sock, imp_fixture("import-acled.csv"), 0, "import",
	    "--strict", "-");
	T_EQ_U64(r.added, 3);
	th_run_free(&r);
	T_ASSERT((ev = imp_get(d.sock, "acled", "TST1")) != NULL);
	json_decref(ev);
	T_OK(th_daemon_stop(&d));
}

TEST(import_reads_gz_and_zip)
{
	struct th_daemon	 d;
	struct th_run		 r;
	struct archive		*ar;
	struct archive_entry	*ent;
	char			 gz[256], zip[256], *src;
	size_t			 len;
	gzFile			 g;

	src = th_slurp(imp_fixture("import-gdelt-mixed.tsv"), &len);
	snprintf(gz, sizeof gz, "%s/events.tsv.gz", t_dir());
	T_ASSERT((g = gzopen(gz, "wb")) != NULL);
	T_EQ_INT(gzwrite(g, src, len), len);
	T_EQ_INT(gzclose(g), Z_OK);
	snprintf(zip, sizeof zip, "%s/20191024143000.export.CSV.zip",
	    t_dir());
	T_ASSERT((ar = archive_write_new()) != NULL);
	T_EQ_INT(archive_write_set_format_zip(ar), ARCHIVE_OK);
	T_EQ_INT(archive_write_open_filename(ar, zip), ARCHIVE_OK);
	T_ASSERT((ent = archive_entry_new()) != NULL);
	archive_entry_set_pathname(ent, "20191024143000.export.CSV");
	archive_entry_set_filetype(ent, AE_IFREG);
	archive_entry_set_perm(ent, 0644);
	archive_entry_set_size(ent, len);
	T_EQ_INT(archive_write_header(ar, ent), ARCHIVE_OK);
	T_EQ_INT(archive_write_data(ar, src, len), len);
	archive_entry_free(ent);
	T_EQ_INT(archive_write_close(ar), ARCHIVE_OK);
	archive_write_free(ar);
	free(src);

	T_OK(th_daemon_start(&d, NULL));
	TH_ANNALS(&r, d.sock, NULL, 0, "import", gz);
	T_EQ_U64(r.added, 9);
	th_run_free(&r);
	TH_ANNALS(&r, d.sock, NULL, 0, "import", zip);
	T_EQ_U64(r.unchanged, 9);
	th_run_free(&r);
	/* gzip on stdin as well. */
	TH_ANNALS(&r, d.sock, gz, 0, "import", "--format", "gdelt", "-");
	T_EQ_U64(r.unchanged, 9);
	th_run_free(&r);
	T_EQ_U64(th_event_count(d.sock), 9);
	T_OK(th_daemon_stop(&d));
}

/* The export's lines without id, rev, created, updated; sorted. */
static int
imp_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

static char **
imp_normal(const char *out, size_t *n)
{
	char		**v = NULL;
	const char	 *p, *nl;
	json_t		 *o;

	*n = 0;
	for (p = out; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		T_ASSERT(nl != NULL);
		T_ASSERT((o = json_loadb(p, nl - p, 0, NULL)) != NULL);
		T_ASSERT(json_object_get(o, "match") == NULL);
		json_object_del(o, "id");
		json_object_del(o, "rev");
		json_object_del(o, "created");
		json_object_del(o, "updated");
		T_ASSERT((v = realloc(v, (*n + 1) * sizeof *v)) != NULL);
		v[(*n)++] = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
		json_decref(o);
	}
	qsort(v, *n, sizeof *v, imp_cmp);
	return (v);
}

/* day_rows: the ICEWS rows dated 2018-06-02. */
static void
imp_check_roundtrip(const struct imp_sample *s, uint64_t day_rows)
{
	struct th_daemon	  d;
	struct th_run		  r;
	char			  dump[256], moved[256], **a, **b;
	uint64_t		  total = 0;
	size_t			  na, nb, i;

	T_OK(th_daemon_start(&d, NULL));
	for (i = 0; i < IMP_NSAMPLES; i++) {
		TH_ANNALS(&r, d.sock, NULL, 0, "import", s[i].path);
		th_run_free(&r);
		total += s[i].rows;
	}
	TH_ANNALS(&r, d.sock, NULL, 0, "export");
	snprintf(dump, sizeof dump, "%s/a.jsonl", t_dir());
	th_write(dump, r.out, strlen(r.out));
	a = imp_normal(r.out, &na);
	T_EQ_U64(na, total);
	th_run_free(&r);
	T_OK(th_daemon_stop(&d));

	/* Daemon B: a fresh data directory. */
	snprintf(moved, sizeof moved, "%s/data-a", t_dir());
	T_OK(rename(d.data, moved));
	T_OK(mkdir(d.data, 0700));
	T_OK(th_daemon_start(&d, NULL));
	T_EQ_U64(th_event_count(d.sock), 0);
	TH_ANNALS(&r, d.sock, dump, 0, "import", "-");
	T_EQ_U64(r.added, total);
	th_run_free(&r);
	TH_ANNALS(&r, d.sock, NULL, 0, "export");
	b = imp_normal(r.out, &nb);
	th_run_free(&r);
	T_EQ_INT(na, nb);
	for (i = 0; i < na; i++)
		T_EQ_STR(a[i], b[i]);

	/* CSV goes back as well: every row unchanged. */
	TH_ANNALS(&r, d.sock, NULL, 0, "export", "--format", "csv");
	snprintf(dump, sizeof dump, "%s/a.csv", t_dir());
	th_write(dump, r.out, strlen(r.out));
	th_run_free(&r);
	TH_ANNALS(&r, d.sock, NULL, 0, "import", dump);
	T_EQ_U64(r.unchanged, total);
	th_run_free(&r);

	/* A filtered export: one source, one range. */
	TH_ANNALS(&r, d.sock, NULL, 0, "export", "2018-06-02", "2018-06-02",
	    "--source", "icews");
	for (nb = 0, i = 0; r.out[i] != '\0'; i++)
		nb += r.out[i] == '\n';
	T_EQ_U64(nb, day_rows);
	th_run_free(&r);
	for (i = 0; i < na; i++) {
		free(a[i]);
		free(b[i]);
	}
	free(a);
	free(b);
	T_OK(th_daemon_stop(&d));
}

TEST(export_import_into_an_empty_daemon_is_the_same_database)
{
	struct imp_sample	s[IMP_NSAMPLES];
	uint64_t		day;

	imp_fixtures(s);
	/* Column 1 is Event Date; the cut holds both days. */
	day = imp_rows_with(s[2].path, 1, "2018-06-02");
	T_ASSERT(day > 0 && day < s[2].rows);
	imp_check_roundtrip(s, day);
}

TEST(export_import_shared_into_an_empty_daemon_is_the_same_database)
{
	struct imp_sample	s[IMP_NSAMPLES];

	imp_shared_samples_get(s);
	imp_check_roundtrip(s, 1346);
}
