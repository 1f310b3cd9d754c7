/*
 * annals import at the edges of its input, the built binary against the
 * real daemon: gzip streams cut short, last lines without a newline, a
 * stray quote before megabytes of rows (and the CSV splitter's work on
 * it, counted), and export | import into an empty daemon losing nothing.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <msgpack.h>
#include <zlib.h>

#include "../client/annals.h"
#include "../client/cli.h"
#include "../client/import.h"
#include "harness.h"
#include "test.h"


static const char *
edge_fixture(const char *file)
{
	static char	path[4][1024];
	static int	n;
	char		*p = path[n++ % 4];

	/* The runner sits in the build directory, inside the checkout. */
	snprintf(p, sizeof path[0], "%s/../tests/data/%s", t_bindir(), file);
	return (p);
}

/* Write data to path gzipped, as one stream. */
static void
edge_gzip(const char *path, const char *data, size_t len)
{
	gzFile	g;

	T_ASSERT((g = gzopen(path, "wb")) != NULL);
	T_EQ_INT(gzwrite(g, data, len), len);
	T_EQ_INT(gzclose(g), Z_OK);
}

/* What zlib gives back of a (cut) gzip file, read to its end. */
static char *
edge_gunzip(const char *path, size_t *lenp)
{
	gzFile	 g;
	char	*buf;
	size_t	 len = 0, size = 1 << 20;
	int	 n;

	T_ASSERT((g = gzopen(path, "rb")) != NULL);
	T_ASSERT((buf = malloc(size + 1)) != NULL);
	while ((n = gzread(g, buf + len, size - len)) > 0)
		len += n;
	T_ASSERT(n == 0 && len < size);
	gzclose(g);
	buf[len] = '\0';
	*lenp = len;
	return (buf);
}

/* The GDELT row with the id key in text, or NULL. */
static const char *
edge_gdelt_row(const char *text, const char *key)
{
	const char	*p;
	size_t		 k = strlen(key);

	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, key, k) == 0 && p[k] == '\t')
			return (p);
	}
	return (NULL);
}

/* The last field of the line at row: GDELT 2.0's SOURCEURL. */
static char *
edge_gdelt_url(const char *row)
{
	const char	*nl, *tab;

	nl = strchr(row, '\n');
	T_ASSERT(nl != NULL);
	for (tab = nl; tab > row && tab[-1] != '\t'; tab--)
		continue;
	return (strndup(tab, nl - tab));
}

/*
 * Check that source holds exactly the whole lines of the text zlib
 * could decode (part), each stored as it was written.
 */
static void
edge_gdelt_same(const char *sock, const char *source, const char *orig,
    const char *part, size_t partlen)
{
	json_t		*evs, *ev;
	const char	*key, *row, *p;
	char		*url;
	size_t		 i, whole = 0;

	for (p = part; p < part + partlen; p++)
		whole += *p == '\n';
	evs = th_export(sock, source);
	T_ASSERTF(json_array_size(evs) == whole, "%s: %zu events, %zu whole "
	    "lines", source, json_array_size(evs), whole);
	json_array_foreach(evs, i, ev) {
		key = json_string_value(json_object_get(ev, "key"));
		T_ASSERT(key != NULL);
		row = edge_gdelt_row(part, key);
		T_ASSERTF(row != NULL && memchr(row, '\n', partlen -
		    (row - part)) != NULL, "%s: %s is not a whole line",
		    source, key);
		T_ASSERT((row = edge_gdelt_row(orig, key)) != NULL);
		url = edge_gdelt_url(row);
		T_EQ_STR(json_string_value(json_array_get(json_object_get(ev,
		    "urls"), 0)), url);
		free(url);
	}
	json_decref(evs);
}

TEST(import_edge_gz_cut_anywhere_is_an_error_keeping_whole_rows)
{
	struct th_daemon	 d;
	struct th_run		 r;
	char			 gz[256], cut[256], source[32], want[128];
	char			*src, *zdata, *part;
	size_t			 len, zlen, partlen, at[12], i, n = 0, k, lines;
	json_t			*evs;

	src = th_slurp(edge_fixture("sync-gdelt2.tsv"), &len);
	snprintf(gz, sizeof gz, "%s/whole.gz", t_dir());
	edge_gzip(gz, src, len);
	zdata = th_slurp(gz, &zlen);
	T_ASSERT(zlen > 1000);
	/* In the header, through the deflate data, in the trailer. */
	at[n++] = 5;
	for (k = 1; k < 8; k++)
		at[n++] = zlen * k / 8;
	at[n++] = zlen - 8;
	at[n++] = zlen - 1;

	T_OK(th_daemon_start(&d, NULL));
	snprintf(cut, sizeof cut, "%s/20191024143000.export.CSV.gz", t_dir());
	for (i = 0; i < n; i++) {
		th_write(cut, zdata, at[i]);
		part = edge_gunzip(cut, &partlen);
		for (lines = 0, k = 0; k < partlen; k++)
			lines += part[k] == '\n';
		snprintf(source, sizeof source, "cut%zu", at[i]);
		TH_ANNALS(&r, d.sock, NULL, 4, "import", "--source", source,
		    cut);
		/* The line named is the one cut. */
		snprintf(want, sizeof want, "export.CSV.gz:%zu: gzip data "
		    "ends early: the file is truncated", lines + 1);
		T_ASSERTF(strstr(r.err, want) != NULL, "cut at %zu: %s",
		    at[i], r.err);
		T_EQ_U64(r.rejected, 0);
		T_EQ_U64(r.added, lines);
		th_run_free(&r);
		edge_gdelt_same(d.sock, source, src, part, partlen);
		free(part);
	}

	/* On stdin, and --strict sends nothing. */
	th_write(cut, zdata, zlen / 2);
	TH_ANNALS(&r, d.sock, cut, 4, "import", "--format", "gdelt",
	    "--source", "stdin", "-");
	T_ASSERTF(strstr(r.err, "stdin:") != NULL &&
	    strstr(r.err, "the file is truncated") != NULL, "%s", r.err);
	th_run_free(&r);
	TH_ANNALS(&r, d.sock, NULL, 4, "import", "--strict", "--source",
	    "strict", cut);
	T_ASSERT(strstr(r.err, "--strict: nothing imported") != NULL);
	th_run_free(&r);
	evs = th_export(d.sock, "strict");
	T_EQ_INT(json_array_size(evs), 0);
	json_decref(evs);

	free(zdata);
	free(src);
	T_OK(th_daemon_stop(&d));
}

TEST(import_edge_whole_files_import_with_or_without_a_last_newline)
{
	struct th_daemon	 d;
	struct th_run		 r;
	char			 path[256], *src, *two;
	size_t			 len;
	gzFile			 g;

	src = th_slurp(edge_fixture("sync-gdelt2.tsv"), &len);
	T_ASSERT(src[len - 1] == '\n');
	T_OK(th_daemon_start(&d, NULL));

	/* Plain, the last line without its newline: 150 rows, all whole. */
	snprintf(path, sizeof path, "%s/plain.export.CSV", t_dir());
	th_write(path, src, len - 1);
	TH_ANNALS(&r, d.sock, NULL, 0, "import", "--source", "plain", path);
	T_EQ_U64(r.added, 150);
	th_run_free(&r);
	edge_gdelt_same(d.sock, "plain", src, src, len);

	/* gzip, whole, with and without the last newline. */
	snprintf(path, sizeof path, "%s/whole.export.CSV.gz", t_dir());
	edge_gzip(path, src, len);
	TH_ANNALS(&r, d.sock, NULL, 0, "import", "--source", "gz", path);
	T_EQ_U64(r.added, 150);
	th_run_free(&r);
	edge_gdelt_same(d.sock, "gz", src, src, len);
	edge_gzip(path, src, len - 1);
	TH_ANNALS(&r, d.sock, NULL, 0, "import", "--source", "gznl", path);
	T_EQ_U64(r.added, 150);
	th_run_free(&r);
	edge_gdelt_same(d.sock, "gznl", src, src, len);

	/* Two gzip members one after the other are one stream. */
	T_ASSERT((two = strchr(src + len / 2, '\n')) != NULL);
	two++;
	T_ASSERT((g = gzopen(path, "wb")) != NULL);
	T_EQ_INT(gzwrite(g, src, two - src), two - src);
	T_EQ_INT(gzclose(g), Z_OK);
	T_ASSERT((g = gzopen(path, "ab")) != NULL);
	T_EQ_INT(gzwrite(g, two, len - (two - src)), len - (two - src));
	T_EQ_INT(gzclose(g), Z_OK);
	TH_ANNALS(&r, d.sock, NULL, 0, "import", "--source", "two", path);
	T_EQ_U64(r.added, 150);
	th_run_free(&r);
	edge_gdelt_same(d.sock, "two", src, src, len);

	free(src);
	T_OK(th_daemon_stop(&d));
}

/* An ACLED row of 31 columns with id TSTn; quote opens a stray quote. */
static int
edge_acled_row(char *buf, size_t size, size_t n, int quote)
{
	return (snprintf(buf, size, "TST%zu,2024-05-02,2024,1,Political "
	    "violence,Battles,%sArmed clash,Group A,,Rebel group,Group B,,"
	    "Rebel group,Rebel group-Rebel group,,999,Test Region,Testland,"
	    "North,Upper,,Alpha,10.5,-20.25,1,Test Wire,National,Notes,0,,"
	    "1717000000\n", n, quote ? "\"" : ""));
}

/*
 * A quote never closed, then more than IMPORT_MAX_ROW of rows: the
 * splitter gives up at the bound, having looked at each byte once.
 * Splitting the joined record again after each line looked at the
 * first ones once per line (issue #15: 250 s of CPU for 4 MiB).
 */
TEST(import_edge_csv_stray_quote_costs_linear_work_and_a_bound)
{
	struct import_split	c;
	struct aerr		err;
	char			row[512];
	uint64_t		fed = 0;
	size_t			n, len;
	int			rc;

	memset(&c, 0, sizeof c);
	c.delim = ',';
	c.quoted = 1;
	len = edge_acled_row(row, sizeof row, 0, 1);
	T_EQ_INT(import_split_feed(&c, row, len - 1, &err), IMPORT_SPLIT_MORE);
	fed += len - 1;
	for (n = 1;; n++) {
		len = edge_acled_row(row, sizeof row, n, 0) - 1;
		fed += len;
		aerr_clear(&err);
		rc = import_split_feed(&c, row, len, &err);
		if (rc != IMPORT_SPLIT_MORE)
			break;
		T_ASSERT(n < 2 * IMPORT_MAX_ROW / len);
	}
	T_EQ_INT(rc, -1);
	T_EQ_STR(err.msg, "quoted field not closed within 4194304 bytes");
	T_ASSERT(c.open);
	T_EQ_INT(c.quote_line, 0);
	/* The error came at the bound, and each byte was looked at once. */
	T_ASSERTF(fed + n > IMPORT_MAX_ROW && fed <= IMPORT_MAX_ROW + len,
	    "%" PRIu64 " bytes in %zu lines", fed, n);
	T_ASSERTF(c.examined <= fed, "%" PRIu64 " bytes examined for %"
	    PRIu64, c.examined, fed);
	T_ASSERTF(c.bufsize <= 2 * (IMPORT_MAX_ROW + len), "%zu", c.bufsize);
	import_split_reset(&c);

	/* The next record starts afresh. */
	len = edge_acled_row(row, sizeof row, 1, 0) - 1;
	T_EQ_INT(import_split_feed(&c, row, len, &err), IMPORT_SPLIT_DONE);
	T_EQ_INT(c.nfields, 31);
	T_EQ_STR(c.fields[0], "TST1");
	import_split_free(&c);
}

/*
 * RFC 4180 through the line-at-a-time splitter: quoted delimiters, ""
 * escapes, line breaks inside quotes, a quote opening on a later line,
 * and a quoted field just under the bound.
 */
TEST(import_edge_csv_quoted_fields_across_lines)
{
	struct import_split	 c;
	struct aerr		 err;
	char			*big;
	size_t			 i, n;

	memset(&c, 0, sizeof c);
	c.delim = ',';
	c.quoted = 1;
	T_EQ_INT(import_split_feed(&c, "a,\"b, \"\"c\"\"\",", 13, &err),
	    IMPORT_SPLIT_DONE);
	T_EQ_INT(c.nfields, 3);
	T_EQ_STR(c.fields[1], "b, \"c\"");
	T_EQ_STR(c.fields[2], "");
	T_EQ_INT(import_split_feed(&c, "x,\"one", 6, &err), IMPORT_SPLIT_MORE);
	T_EQ_INT(import_split_feed(&c, "", 0, &err), IMPORT_SPLIT_MORE);
	T_EQ_INT(import_split_feed(&c, "two\",\"th", 8, &err), IMPORT_SPLIT_MORE);
	T_EQ_INT(c.quote_line, 2);
	T_EQ_INT(import_split_feed(&c, "ree\"\"\",y", 8, &err),
	    IMPORT_SPLIT_DONE);
	T_EQ_INT(c.nfields, 4);
	T_EQ_STR(c.fields[0], "x");
	T_EQ_STR(c.fields[1], "one\n\ntwo");
	T_EQ_STR(c.fields[2], "th\nree\"");
	T_EQ_STR(c.fields[3], "y");
	T_EQ_INT(c.lines, 4);

	/* Errors name the column; the next record starts afresh. */
	T_EQ_INT(import_split_feed(&c, "a,\"b\"c", 6, &err), -1);
	T_EQ_STR(err.msg, "column 2: text after the closing quote");
	import_split_reset(&c);
	T_EQ_INT(import_split_feed(&c, "a,b\"c", 5, &err), -1);
	T_EQ_STR(err.msg, "column 2: quote inside an unquoted field");
	import_split_reset(&c);

	/* A quoted field of 4 MiB less a little, over 64 KiB lines. */
	T_ASSERT((big = malloc(65536)) != NULL);
	memset(big, 'x', 65536);
	big[0] = '"';
	T_EQ_INT(import_split_feed(&c, big, 65536, &err), IMPORT_SPLIT_MORE);
	n = IMPORT_MAX_ROW / 65537 - 1;
	for (i = 1; i < n; i++)
		T_EQ_INT(import_split_feed(&c, big + 1, 65535, &err),
		    IMPORT_SPLIT_MORE);
	T_EQ_INT(import_split_feed(&c, "end\",z", 6, &err), IMPORT_SPLIT_DONE);
	T_EQ_INT(c.nfields, 2);
	/* n lines of 65535 x and their newlines, then "end". */
	T_EQ_INT(strlen(c.fields[0]), n * 65536 + 3);
	T_EQ_STR(c.fields[1], "z");
	free(big);

	/*
	 * A CR ending a line is its line break's, unless a quote is open:
	 * then CRLF is text, like a lone CR anywhere.
	 */
	T_EQ_INT(import_split_feed(&c, "a,\"b\r", 5, &err), IMPORT_SPLIT_MORE);
	T_EQ_INT(import_split_feed(&c, "c\rd\"\"\r", 6, &err),
	    IMPORT_SPLIT_MORE);
	T_EQ_INT(import_split_feed(&c, "\",\"e\"\r", 6, &err), IMPORT_SPLIT_DONE);
	T_EQ_INT(c.nfields, 3);
	T_EQ_STR(c.fields[1], "b\r\nc\rd\"\r\n");
	T_EQ_STR(c.fields[2], "e");
	T_EQ_INT(import_split_feed(&c, "x,y\r", 4, &err), IMPORT_SPLIT_DONE);
	T_EQ_STR(c.fields[1], "y");
	T_EQ_INT(import_split_feed(&c, "\r", 1, &err), IMPORT_SPLIT_DONE);
	T_EQ_INT(c.nfields, 1);
	T_EQ_STR(c.fields[0], "");

	/* TSV: a quote is a character. */
	c.delim = '\t';
	c.quoted = 0;
	T_EQ_INT(import_split_feed(&c, "\"a\tb\"c", 6, &err), IMPORT_SPLIT_DONE);
	T_EQ_INT(c.nfields, 2);
	T_EQ_STR(c.fields[0], "\"a");
	T_EQ_STR(c.fields[1], "b\"c");
	T_EQ_INT(import_split_feed(&c, "a\tb\r", 4, &err), IMPORT_SPLIT_DONE);
	T_EQ_STR(c.fields[1], "b");
	import_split_free(&c);
}

/*
 * Through the CLI and the daemon: the stray quote's row is reported at
 * the line where the quote opened, and every row after it lands.
 */
TEST(import_edge_csv_stray_quote_costs_one_row)
{
	struct th_daemon	 d;
	struct th_run		 r;
	char			 path[256], row[512], *hdr, *p;
	size_t			 n, rows, bytes = 0;
	json_t			*evs;
	FILE			*fp;

	hdr = th_slurp(edge_fixture("import-acled-bad.csv"), NULL);
	T_ASSERT((p = strchr(hdr, '\n')) != NULL);
	p[1] = '\0';
	snprintf(path, sizeof path, "%s/stray.csv", t_dir());
	T_ASSERT((fp = fopen(path, "w")) != NULL);
	fputs(hdr, fp);
	edge_acled_row(row, sizeof row, 1, 0);
	fputs(row, fp);
	edge_acled_row(row, sizeof row, 2, 1);		/* line 3 */
	fputs(row, fp);
	for (n = 3; bytes <= IMPORT_MAX_ROW + 65536; n++) {
		bytes += edge_acled_row(row, sizeof row, n, 0);
		fputs(row, fp);
	}
	T_OK(fclose(fp));
	rows = n - 1;

	T_OK(th_daemon_start(&d, NULL));
	TH_ANNALS(&r, d.sock, NULL, 1, "import", path);
	T_ASSERTF(strstr(r.err, "stray.csv:3: quoted field not closed "
	    "within 4194304 bytes\n") != NULL, "%s", r.err);
	T_EQ_U64(r.rejected, 1);
	T_EQ_U64(r.added, rows - 1);
	T_EQ_U64(r.rows, rows);
	th_run_free(&r);

	/* A quote that opens on the record's second line, never closed. */
	T_ASSERT((fp = fopen(path, "w")) != NULL);
	fputs(hdr, fp);
	edge_acled_row(row, sizeof row, 1, 1);		/* line 2 */
	fputs(row, fp);
	fputs("x\",y,\"z\n", fp);			/* line 3 */
	edge_acled_row(row, sizeof row, 4, 0);		/* line 4 */
	fputs(row, fp);
	T_OK(fclose(fp));
	TH_ANNALS(&r, d.sock, NULL, 1, "import", "--source", "late", path);
	T_ASSERTF(strstr(r.err, "stray.csv:3: quoted field not closed at the "
	    "end of the input (in the row from line 2)\n") != NULL, "%s",
	    r.err);
	/* Line 3 read again: a quote inside an unquoted field. */
	T_ASSERTF(strstr(r.err, "stray.csv:3: column 1: quote inside an "
	    "unquoted field\n") != NULL, "%s", r.err);
	T_EQ_U64(r.added, 1);
	th_run_free(&r);
	evs = th_export(d.sock, "late");
	T_EQ_INT(json_array_size(evs), 1);
	T_EQ_STR(json_string_value(json_object_get(json_array_get(evs, 0),
	    "key")), "TST4");
	json_decref(evs);
	free(hdr);
	T_OK(th_daemon_stop(&d));
}

/* The round trip's events: every kind of number, CR and LF in text. */
static void
edge_rt_attrs(msgpack_sbuffer *sb, int which)
{
	msgpack_packer	pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, which == 0 ? 16 : 2);
#define EDGE_KEY(k) msgpack_pack_str_with_body(&pk, k, strlen(k))
	if (which == 0) {
		EDGE_KEY("i64min");
		msgpack_pack_int64(&pk, INT64_MIN);
		EDGE_KEY("i32min-1");
		msgpack_pack_int64(&pk, (int64_t)INT32_MIN - 1);
		EDGE_KEY("neg1");
		msgpack_pack_int64(&pk, -1);
		EDGE_KEY("zero");
		msgpack_pack_uint64(&pk, 0);
		EDGE_KEY("i64max");
		msgpack_pack_uint64(&pk, INT64_MAX);
		EDGE_KEY("2^63");
		msgpack_pack_uint64(&pk, (uint64_t)1 << 63);
		EDGE_KEY("u64max");
		msgpack_pack_uint64(&pk, UINT64_MAX);
		EDGE_KEY("tenth");
		msgpack_pack_double(&pk, 0.1);
		EDGE_KEY("max");
		msgpack_pack_double(&pk, 1.7976931348623157e308);
		EDGE_KEY("denormal");
		msgpack_pack_double(&pk, -4.9406564584124654e-324);
		EDGE_KEY("whole");
		msgpack_pack_double(&pk, 3.0);
		EDGE_KEY("-0");
		msgpack_pack_double(&pk, -0.0);
		EDGE_KEY("2^64");
		msgpack_pack_double(&pk, 18446744073709551616.0);
		EDGE_KEY("crlf");
		msgpack_pack_str_with_body(&pk, "a\r\nb\rc\n", 7);
		EDGE_KEY("list");
		msgpack_pack_array(&pk, 3);
		msgpack_pack_uint64(&pk, UINT64_MAX - 1);
		msgpack_pack_int64(&pk, INT64_MIN + 1);
		msgpack_pack_double(&pk, 2.5);
		EDGE_KEY("map");
		msgpack_pack_map(&pk, 1);
		EDGE_KEY("u");
		msgpack_pack_uint64(&pk, 9223372036854775809u);
	} else {
		EDGE_KEY("text");
		msgpack_pack_str_with_body(&pk, "\r", 1);
		EDGE_KEY("n");
		msgpack_pack_uint64(&pk, 12345678901234567890u);
	}
#undef EDGE_KEY
}

static const char *const edge_rt_texts[] = {
	"CRLF\r\nCR\rLF\nend",
	"ends in CRLF\r\n",
	"ends in CR\r",
	"\r\n",
	"\"quoted\",\r\n\r\n,comma\n\nblank line above",
	"plain"
};
#define EDGE_RT_N	(sizeof edge_rt_texts / sizeof edge_rt_texts[0])

static int
edge_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/* Field by field, attrs byte for byte. */
static void
edge_same_event(const struct annals_event *a, const struct annals_event *b,
    const char *how)
{
	size_t	i;

#define EDGE_SAME_STR(f) T_ASSERTF(edge_str_eq(a->f, b->f), "%s: %s: "	\
    "%s: \"%s\" != \"%s\"", how, a->key, #f, a->f ? a->f : "(null)",	\
    b->f ? b->f : "(null)")
	EDGE_SAME_STR(source);
	EDGE_SAME_STR(key);
	EDGE_SAME_STR(start);
	EDGE_SAME_STR(end);
	EDGE_SAME_STR(type);
	EDGE_SAME_STR(title);
	EDGE_SAME_STR(text);
	EDGE_SAME_STR(place_name);
	EDGE_SAME_STR(place_country);
#undef EDGE_SAME_STR
	T_EQ_INT(a->nactors, b->nactors);
	for (i = 0; i < a->nactors; i++) {
		T_EQ_STR(a->actors[i].name, b->actors[i].name);
		T_ASSERT(edge_str_eq(a->actors[i].role, b->actors[i].role));
	}
	T_EQ_INT(a->has_lat, b->has_lat);
	T_EQ_INT(a->has_lon, b->has_lon);
	T_ASSERT(!a->has_lat || memcmp(&a->lat, &b->lat, sizeof a->lat) == 0);
	T_ASSERT(!a->has_lon || memcmp(&a->lon, &b->lon, sizeof a->lon) == 0);
	T_EQ_INT(a->nurls, b->nurls);
	for (i = 0; i < a->nurls; i++)
		T_EQ_STR(a->urls[i], b->urls[i]);
	T_EQ_INT(a->ntags, b->ntags);
	for (i = 0; i < a->ntags; i++)
		T_EQ_STR(a->tags[i], b->tags[i]);
	T_ASSERTF(a->attrs_len == b->attrs_len && (a->attrs_len == 0 ||
	    memcmp(a->attrs, b->attrs, a->attrs_len) == 0), "%s: %s: attrs "
	    "differ (%zu, %zu bytes)", how, a->key, a->attrs_len, b->attrs_len);
}

/* Stop d and start it again on an empty data directory. */
static void
edge_fresh_daemon(struct th_daemon *d, const char *keep)
{
	char	moved[256];

	T_OK(th_daemon_stop(d));
	snprintf(moved, sizeof moved, "%s/%s", t_dir(), keep);
	T_OK(rename(d->data, moved));
	T_OK(mkdir(d->data, 0700));
	T_OK(th_daemon_start(d, NULL));
}

/*
 * Put through libannals, export (JSON lines and CSV), import each into
 * an empty daemon: the same records, field by field and attrs byte for
 * byte.  uint64 beyond INT64_MAX came back as a float, and CRLF inside a
 * quoted CSV field as LF (issue #15).
 */
TEST(import_edge_export_import_round_trip_is_lossless)
{
	static const struct annals_actor	 actors[] = {
		{ "ACT\r\n1", "source" }, { "ACT2", NULL }
	};
	static const char *const		 urls[] = {
		"https://example.org/a?b=c,d"
	};
	static const char *const		 tags[] = { "t1", "t 2" };
	struct annals_event			 put[EDGE_RT_N];
	struct annals_event			*orig[EDGE_RT_N], *got;
	struct th_daemon			 d;
	struct th_run				 r;
	msgpack_sbuffer				 sb[2];
	annals_ctx				*ctx;
	char					 dump[2][256];
	char					 keys[EDGE_RT_N][16], keep[16];
	static const char *const		 how[] = { "jsonl", "csv" };
	size_t					 i, k;

	edge_rt_attrs(&sb[0], 0);
	edge_rt_attrs(&sb[1], 1);
	memset(put, 0, sizeof put);
	for (i = 0; i < EDGE_RT_N; i++) {
		snprintf(keys[i], sizeof keys[i], "k%zu", i);
		put[i].source = "rt";
		put[i].key = keys[i];
		put[i].start = i % 2 ? "2024-01" : "2024-01-02";
		put[i].end = i % 2 ? NULL : "2024-02-03";
		put[i].title = edge_rt_texts[(i + 1) % EDGE_RT_N];
		put[i].text = edge_rt_texts[i];
		put[i].place_name = edge_rt_texts[(i + 2) % EDGE_RT_N];
		put[i].place_country = "XX";
		put[i].has_lat = put[i].has_lon = i % 2 == 0;
		put[i].lat = 0.1 + 0.2;
		put[i].lon = -179.99999999999997;
		put[i].actors = actors;
		put[i].nactors = 1 + i % 2;
		put[i].type = "01\r\n";
		put[i].urls = urls;
		put[i].nurls = i % 2;
		put[i].tags = tags;
		put[i].ntags = i % 3;
		if (i < 2) {
			put[i].attrs = sb[i].data;
			put[i].attrs_len = sb[i].size;
		}
	}

	T_OK(th_daemon_start(&d, NULL));
	T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
	T_OK(annals_put(ctx, put, EDGE_RT_N, NULL));
	for (i = 0; i < EDGE_RT_N; i++) {
		T_OK(annals_get_by_key(ctx, "rt", keys[i], &orig[i]));
		edge_same_event(&put[i], orig[i], "put");
	}
	annals_free(ctx);
	for (k = 0; k < sizeof how / sizeof how[0]; k++) {
		snprintf(dump[k], sizeof dump[k], "%s/rt.%s", t_dir(),
		    how[k]);
		TH_ANNALS(&r, d.sock, NULL, 0, "export", "--format", how[k]);
		th_write(dump[k], r.out, strlen(r.out));
		th_run_free(&r);
	}

	for (k = 0; k < sizeof how / sizeof how[0]; k++) {
		snprintf(keep, sizeof keep, "data-%zu", k);
		edge_fresh_daemon(&d, keep);
		TH_ANNALS(&r, d.sock, NULL, 0, "import", dump[k]);
		T_EQ_U64(r.added, EDGE_RT_N);
		th_run_free(&r);
		T_ASSERT((ctx = annals_connect(d.sock)) != NULL);
		for (i = 0; i < EDGE_RT_N; i++) {
			T_OK(annals_get_by_key(ctx, "rt", keys[i], &got));
			edge_same_event(orig[i], got, how[k]);
			annals_event_free(got);
		}
		annals_free(ctx);
	}
	T_OK(th_daemon_stop(&d));
	for (i = 0; i < EDGE_RT_N; i++)
		annals_event_free(orig[i]);
	msgpack_sbuffer_destroy(&sb[0]);
	msgpack_sbuffer_destroy(&sb[1]);
}

/* JSON text to msgpack attrs through json_load_u64(), and back. */
TEST(import_edge_json_integers_beyond_int64)
{
	static const char	 in[] = "{\"a\":18446744073709551615,"
	    "\"s\":\"18446744073709551615\",\"b\":[9223372036854775808,"
	    "-9223372036854775808,9223372036854775807,1e+19,"
	    "12345678901234567890.5,-0.0],\"k\":{\"10000000000000000000\":"
	    "10000000000000000000}}";
	msgpack_sbuffer		 sb;
	msgpack_unpacked	 up;
	msgpack_object		*o, *b;
	json_error_t		 jerr;
	json_t			*j;
	const char		*t;
	char			 err[256], *text;
	size_t			 off = 0, size;
	FILE			*mem;

	T_ASSERTF((j = json_load_u64(in, sizeof in - 1, 0, &jerr)) != NULL,
	    "%s", jerr.text);
	msgpack_sbuffer_init(&sb);
	T_OK(json_record_attrs(j, &sb, err, sizeof err));
	msgpack_unpacked_init(&up);
	T_EQ_INT(msgpack_unpack_next(&up, sb.data, sb.size, &off),
	    MSGPACK_UNPACK_SUCCESS);
	o = &up.data;
	T_EQ_INT(o->type, MSGPACK_OBJECT_MAP);
	T_EQ_INT(o->via.map.size, 4);
	T_EQ_INT(o->via.map.ptr[0].val.type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	T_EQ_U64(o->via.map.ptr[0].val.via.u64, UINT64_MAX);
	T_EQ_INT(o->via.map.ptr[1].val.type, MSGPACK_OBJECT_STR);
	b = &o->via.map.ptr[2].val;
	T_EQ_INT(b->via.array.size, 6);
	T_EQ_INT(b->via.array.ptr[0].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
	T_EQ_U64(b->via.array.ptr[0].via.u64, (uint64_t)1 << 63);
	T_EQ_INT(b->via.array.ptr[1].type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
	T_ASSERT(b->via.array.ptr[1].via.i64 == INT64_MIN);
	T_EQ_U64(b->via.array.ptr[2].via.u64, INT64_MAX);
	T_EQ_INT(b->via.array.ptr[3].type, MSGPACK_OBJECT_FLOAT64);
	T_EQ_INT(b->via.array.ptr[4].type, MSGPACK_OBJECT_FLOAT64);
	T_EQ_INT(b->via.array.ptr[5].type, MSGPACK_OBJECT_FLOAT64);
	T_EQ_U64(o->via.map.ptr[3].val.via.map.ptr[0].val.via.u64,
	    10000000000000000000u);
	msgpack_unpacked_destroy(&up);
	msgpack_sbuffer_destroy(&sb);

	/* Written back as it was read. */
	T_ASSERT((mem = open_memstream(&text, &size)) != NULL);
	T_OK(json_record_write(mem, j));
	T_OK(fclose(mem));
	T_EQ_STR(text, "{\"a\":18446744073709551615,\"s\":"
	    "\"18446744073709551615\",\"b\":[9223372036854775808,"
	    "-9223372036854775808,9223372036854775807,1e+19,"
	    "1.2345678901234567e+19,-0.0],\"k\":{\"10000000000000000000\":"
	    "10000000000000000000}}\n");
	free(text);
	json_decref(j);

	/* Beyond uint64 and int64, and a NUL of the text's own: refused. */
	t = "[18446744073709551616]";
	T_ASSERT(json_load_u64(t, strlen(t), 0, &jerr) == NULL);
	T_ASSERTF(strncmp(jerr.text, "too big integer", 15) == 0, "%s",
	    jerr.text);
	t = "[-9223372036854775809]";
	T_ASSERT(json_load_u64(t, strlen(t), 0, &jerr) == NULL);
	T_ASSERTF(strncmp(jerr.text, "too big negative integer", 24) == 0,
	    "%s", jerr.text);
	t = "[\"\\u0000\",18446744073709551615]";
	T_ASSERT(json_load_u64(t, strlen(t), 0, &jerr) == NULL);
	T_ASSERTF(strstr(jerr.text, "\\u0000 is not allowed") != NULL, "%s",
	    jerr.text);
	/* JSON has no leading zeros, however large the number. */
	t = "[09223372036854775808]";
	T_ASSERT(json_load_u64(t, strlen(t), 0, &jerr) == NULL);
	/* Nor can the text forge the tag of such an integer. */
	t = "{\"a\":\"\\u0000u64:1\"}";
	T_ASSERT((j = json_loadb(t, strlen(t), JSON_ALLOW_NUL, NULL)) !=
	    NULL);
	json_decref(j);
	T_ASSERT(json_load_u64(t, strlen(t), JSON_ALLOW_NUL, &jerr) ==
	    NULL);
	T_ASSERTF(strstr(jerr.text, "\\u0000 is not allowed") != NULL, "%s",
	    jerr.text);
}

/* An export line as compared: no id, rev, times; the source replaced. */
static char *
edge_normal(json_t *ev, const char *source, int drop_cr)
{
	char	*s, *p, *q;

	json_object_del(ev, "id");
	json_object_del(ev, "rev");
	json_object_del(ev, "created");
	json_object_del(ev, "updated");
	T_OK(json_object_set_new(ev, "source", json_string(source)));
	T_ASSERT((s = json_dumps(ev, JSON_SORT_KEYS | JSON_COMPACT)) != NULL);
	if (drop_cr) {
		for (p = q = s; *p != '\0'; p++) {
			if (p[0] == '\\' && p[1] == 'r')
				p++;
			else
				*q++ = *p;
		}
		*q = '\0';
	}
	return (s);
}

static int
edge_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/*
 * A CSV file with CRLF line ends, as Windows writes it, imports as the
 * same file with LF does; a line break inside quotes keeps its CR.
 */
TEST(import_edge_csv_crlf_file_is_the_lf_file)
{
	struct th_daemon	 d;
	struct th_run		 r;
	char			 path[256], *src, *crlf, *a[16], *b[16];
	const char		*text;
	size_t			 len, i, n = 0;
	json_t			*lf, *cr, *ev;

	src = th_slurp(edge_fixture("import-acled.csv"), &len);
	T_ASSERT((crlf = malloc(2 * len + 1)) != NULL);
	for (i = 0; i < len; i++) {
		if (src[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = src[i];
	}
	snprintf(path, sizeof path, "%s/crlf.csv", t_dir());
	th_write(path, crlf, n);

	T_OK(th_daemon_start(&d, NULL));
	TH_ANNALS(&r, d.sock, NULL, 0, "import", "--source", "lf",
	    edge_fixture("import-acled.csv"));
	T_EQ_U64(r.added, 3);
	th_run_free(&r);
	TH_ANNALS(&r, d.sock, NULL, 0, "import", "--source", "crlf", path);
	T_EQ_U64(r.added, 3);
	th_run_free(&r);
	lf = th_export(d.sock, "lf");
	cr = th_export(d.sock, "crlf");
	T_EQ_INT(json_array_size(lf), 3);
	T_EQ_INT(json_array_size(cr), 3);
	json_array_foreach(cr, i, ev) {
		if (strcmp(json_string_value(json_object_get(ev, "key")),
		    "TST2") != 0)
			continue;
		text = json_string_value(json_object_get(ev, "text"));
		T_ASSERTF(text != NULL && strstr(text, ".\r\n") != NULL, "%s",
		    text);
	}
	for (i = 0; i < 3; i++) {
		a[i] = edge_normal(json_array_get(lf, i), "x", 0);
		b[i] = edge_normal(json_array_get(cr, i), "x", 1);
	}
	qsort(a, 3, sizeof a[0], edge_cmp);
	qsort(b, 3, sizeof b[0], edge_cmp);
	for (i = 0; i < 3; i++) {
		T_EQ_STR(a[i], b[i]);
		free(a[i]);
		free(b[i]);
	}
	json_decref(lf);
	json_decref(cr);
	free(crlf);
	free(src);
	T_OK(th_daemon_stop(&d));
}
