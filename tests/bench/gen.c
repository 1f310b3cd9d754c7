/*
 * The workload generator.  Record i is a pure function of i and a fixed
 * seed, so any client can generate any slice and every system is fed
 * the same bytes.
 *
 * Synthetic records: a start day uniform over 1979-2025; 15% run for 1
 * to 30 more days and 0.1% for 1 to 5 years, written as EDTF intervals
 * "A/B"; 2 or 3 distinct actors drawn Zipf-like (s = 1) from 3,000
 * CAMEO-style codes (a country code and an optional sector: RUS, SYRGOV);
 * a CAMEO event code; a title of about 200 bytes.
 *
 * GDELT records: the rows of the GDELT 1.0 and 2.0 samples, replicated
 * with a copy number: start from SQLDATE, actors from Actor1Code and
 * Actor2Code, type from EventCode, every other non-empty column in attrs.
 * The samples are the whole ones of ../shared/data or the cuts of them
 * in tests/data, which a clone always has.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "bench.h"

#define GEN_SEED	UINT64_C(0x616e6e616c73)	/* fixed: "annals" */
#define GEN_NACTORS	3000
#define GEN_NCOUNTRY	150
#define GEN_NSECTOR	20

/* Country codes first by how often they make the news, then fillers. */
static const char *gen_countries[] = {
	"USA", "RUS", "SYR", "CHN", "GBR", "FRA", "ISR", "IRN", "TUR", "UKR",
	"DEU", "IRQ", "AFG", "PAK", "IND", "SAU", "EGY", "JPN", "PRK", "KOR",
	"LBN", "JOR", "PSE", "YEM", "LBY", "NGA", "ZAF", "BRA", "MEX", "CAN",
	"AUS", "ITA", "ESP", "POL", "GRC", "SRB", "BLR", "GEO", "ARM", "AZE",
	"KAZ", "UZB", "SDN", "SSD", "ETH", "SOM", "KEN", "COD", "MLI", "NER",
	"DZA", "MAR", "TUN", "QAT", "ARE", "KWT", "BHR", "OMN", "VEN", "COL",
	"CUB", "ARG", "CHL", "PER", "IDN", "PHL", "MYS", "THA", "VNM", "MMR",
	"BGD", "LKA", "NPL", "TWN", "HKG", "SWE", "NOR", "FIN", "DNK", "NLD",
	"BEL", "CHE", "AUT", "HUN", "ROU", "BGR", "CZE", "SVK", "HRV", "BIH",
	"ALB", "MKD", "MDA", "LTU", "LVA", "EST", "IRL", "PRT", "CYP", "MLT",
};
static const char *gen_sectors[GEN_NSECTOR] = {
	"", "GOV", "MIL", "REB", "OPP", "BUS", "MED", "CVL", "JUD", "LEG",
	"COP", "EDU", "LAB", "REF", "HLH", "HRI", "ELI", "SPY", "AGR", "ENV",
};
static const char *gen_words[] = {
	"talks", "ministers", "meeting", "ceasefire", "agreement", "border",
	"delegation", "summit", "sanctions", "statement", "forces", "city",
	"envoy", "negotiations", "humanitarian", "aid", "convoy", "reported",
	"officials", "said", "on", "the", "in", "with", "after", "over",
	"foreign", "defence", "security", "council", "resolution", "vote",
	"opposition", "government", "rebels", "protest", "capital", "region",
	"accord", "visit", "president", "prime", "minister", "army", "attack",
	"shelling", "withdrawal", "observers", "mission", "refugees", "camp",
	"trade", "energy", "pipeline", "gas", "oil", "deal", "signed",
	"condemned", "urged", "restraint", "dialogue", "peace", "process",
};

static char	 gen_actor_names[GEN_NACTORS][8];
static double	 gen_cdf[GEN_NACTORS];
static int	 gen_which = GEN_SYNTH;
static int32_t	 gen_min_day, gen_max_day;

/* One GDELT row, its attrs packed without the map header. */
struct gen_row {
	int32_t		 day;
	char		 actors[2][32];
	size_t		 nactors;
	char		 type[8];
	unsigned char	*attrs;
	size_t		 attrs_len;
	uint32_t	 nattrs;
};
static struct gen_row	*gen_rows;
static size_t		 gen_nrow;

uint64_t
gen_hash(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return (x ^ (x >> 31));
}

/* splitmix64: small, fast and good enough for workloads. */
uint64_t
gen_rand(uint64_t *s)
{
	*s += UINT64_C(0x9e3779b97f4a7c15);
	return (gen_hash(*s - UINT64_C(0x9e3779b97f4a7c15)));
}

static double
gen_unit(uint64_t *s)
{
	return ((gen_rand(s) >> 11) * (1.0 / 9007199254740992.0));
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int32_t
gen_days(int y, int m, int d)
{
	int	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468);
}

void
gen_day_str(int32_t z, char *buf, size_t len)
{
	int	era, doe, yoe, y, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	snprintf(buf, len, "%04d-%02d-%02d", y + (m <= 2), m, d);
}

static void
gen_init_actors(void)
{
	size_t	r, c, ncountries = sizeof gen_countries / sizeof *gen_countries;
	double	sum = 0;
	char	country[4];

	for (r = 0; r < GEN_NACTORS; r++) {
		c = r % GEN_NCOUNTRY;
		if (c < ncountries)
			snprintf(country, sizeof country, "%s",
			    gen_countries[c]);
		else {
			/* Fillers start with X: no real code is a prefix. */
			country[0] = 'X';
			country[1] = 'A' + (c - ncountries) / 26;
			country[2] = 'A' + (c - ncountries) % 26;
			country[3] = '\0';
		}
		snprintf(gen_actor_names[r], sizeof gen_actor_names[r], "%s%s",
		    country, gen_sectors[r / GEN_NCOUNTRY]);
		sum += 1.0 / (double)(r + 1);
		gen_cdf[r] = sum;
	}
	for (r = 0; r < GEN_NACTORS; r++)
		gen_cdf[r] /= sum;
}

static size_t
gen_zipf(uint64_t *s)
{
	double	u = gen_unit(s);
	size_t	lo = 0, hi = GEN_NACTORS - 1, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (gen_cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

/* Split line at tabs in place; returns the number of fields. */
static size_t
gen_split(char *line, char **f, size_t max)
{
	size_t	n = 0;
	char	*p = line;

	while (n < max) {
		f[n++] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p++ = '\0';
	}
	return (n);
}

static int
gen_read_names(const char *path, int csv, char names[64][40], size_t *n)
{
	FILE	*f;
	char	 line[4096], *p;
	int	 first = 1;

	*n = 0;
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	while (fgets(line, sizeof line, f) != NULL && *n < 64) {
		line[strcspn(line, "\r\n")] = '\0';
		if (first) {		/* "tableId" or the CSV header */
			first = 0;
			continue;
		}
		if (csv && (p = strchr(line, ',')) != NULL)
			*p = '\0';
		if (snprintf(names[*n], sizeof names[0], "%s", line) <
		    (int)sizeof names[0])
			(*n)++;
	}
	fclose(f);
	return (0);
}

static int
gen_col(char names[64][40], size_t n, const char *want)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(names[i], want) == 0)
			return ((int)i);
	}
	return (-1);
}

static int
gen_load_gdelt(const char *dir, const char *file, char names[64][40],
    size_t nnames, size_t alt)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	struct gen_row	*row;
	FILE		*f;
	char		 path[1024], *line = NULL, *fld[64];
	size_t		 cap = 0, nf, i, nuse;
	ssize_t		 len;
	int		 cdate, ca1, ca2, cev, y, m, d;

	cdate = gen_col(names, nnames, "SQLDATE");
	ca1 = gen_col(names, nnames, "Actor1Code");
	ca2 = gen_col(names, nnames, "Actor2Code");
	cev = gen_col(names, nnames, "EventCode");
	if (cdate < 0 || ca1 < 0 || ca2 < 0 || cev < 0) {
		fprintf(stderr, "bench: %s: missing GDELT columns\n", file);
		return (-1);
	}
	snprintf(path, sizeof path, "%s/%s", dir, file);
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		line[strcspn(line, "\n")] = '\0';
		nf = gen_split(line, fld, 64);
		/* GDELT 1.0 historical rows lack the last column. */
		if (nf != nnames && nf != alt)
			continue;
		if (sscanf(fld[cdate], "%4d%2d%2d", &y, &m, &d) != 3)
			continue;
		if (*fld[ca1] == '\0' && *fld[ca2] == '\0')
			continue;
		gen_rows = realloc(gen_rows, (gen_nrow + 1) * sizeof *gen_rows);
		if (gen_rows == NULL)
			abort();
		row = &gen_rows[gen_nrow++];
		memset(row, 0, sizeof *row);
		row->day = gen_days(y, m, d);
		if (*fld[ca1] != '\0')
			snprintf(row->actors[row->nactors++], 32, "%s",
			    fld[ca1]);
		if (*fld[ca2] != '\0' && strcmp(fld[ca2], fld[ca1]) != 0)
			snprintf(row->actors[row->nactors++], 32, "%s",
			    fld[ca2]);
		snprintf(row->type, sizeof row->type, "%s", fld[cev]);
		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		for (i = 0, nuse = 0; i < nf; i++) {
			if ((int)i == cdate || (int)i == ca1 ||
			    (int)i == ca2 || (int)i == cev || *fld[i] == '\0')
				continue;
			msgpack_pack_str_with_body(&pk, names[i],
			    strlen(names[i]));
			msgpack_pack_str_with_body(&pk, fld[i], strlen(fld[i]));
			nuse++;
		}
		row->attrs = (unsigned char *)sb.data;
		row->attrs_len = sb.size;
		row->nattrs = nuse;
	}
	free(line);
	fclose(f);
	return (0);
}

/* The GDELT files of a data directory, by the names each kind uses. */
static const struct gen_files {
	const char	*names1;
	const char	*names2;	/* NULL: made from names1 */
	const char	*rows1;
	const char	*rows2;
} gen_files[] = {
	/* ../shared/data */
	{ "gdelt1-columns.txt", "gdelt2-columns.csv",
	  "gdelt1-events-sample.tsv", "gdelt2-events-sample.tsv" },
	/* tests/data, which carries no 2.0 codebook */
	{ "sample-gdelt1-columns.txt", NULL, "sample-gdelt1.tsv",
	  "sync-gdelt2.tsv" },
};

/* GDELT 2.0's names: 1.0's with an ADM2 code after each ADM1 code. */
static void
gen_names_v2(char v1[64][40], size_t n1, char v2[64][40], size_t *n2)
{
	char	*p;
	size_t	 i;

	*n2 = 0;
	for (i = 0; i < n1 && *n2 < 64; i++) {
		memcpy(v2[(*n2)++], v1[i], sizeof v2[0]);
		if ((p = strstr(v1[i], "_ADM1Code")) != NULL && *n2 < 64) {
			memcpy(v2[*n2], v1[i], sizeof v2[0]);
			v2[(*n2)++][p - v1[i] + 4] = '2';
		}
	}
}

/* Choose the records: GEN_SYNTH, or GEN_GDELT read from datadir. */
int
gen_init(int which, const char *datadir)
{
	const struct gen_files	*g;
	char			 n1[64][40], n2[64][40], path[1024];
	size_t			 nn1, nn2;

	gen_init_actors();
	gen_which = which;
	gen_min_day = gen_days(1979, 1, 1);
	gen_max_day = gen_days(2025, 12, 31);
	if (which == GEN_SYNTH)
		return (0);
	if (gen_rows != NULL)
		return (0);
	for (g = gen_files; g < gen_files + sizeof gen_files /
	    sizeof gen_files[0]; g++) {
		snprintf(path, sizeof path, "%s/%s", datadir, g->rows1);
		if (access(path, R_OK) == 0)
			break;
	}
	if (g == gen_files + sizeof gen_files / sizeof gen_files[0]) {
		fprintf(stderr, "bench: %s has no %s nor %s\n", datadir,
		    gen_files[0].rows1, gen_files[1].rows1);
		return (-1);
	}
	snprintf(path, sizeof path, "%s/%s", datadir, g->names1);
	if (gen_read_names(path, 0, n1, &nn1) != 0)
		return (-1);
	if (g->names2 != NULL) {
		snprintf(path, sizeof path, "%s/%s", datadir, g->names2);
		if (gen_read_names(path, 1, n2, &nn2) != 0)
			return (-1);
	} else
		gen_names_v2(n1, nn1, n2, &nn2);
	if (gen_load_gdelt(datadir, g->rows1, n1, nn1, nn1 - 1) != 0 ||
	    gen_load_gdelt(datadir, g->rows2, n2, nn2, nn2) != 0)
		return (-1);
	if (gen_nrow == 0) {
		fprintf(stderr, "bench: no usable GDELT rows in %s\n", datadir);
		return (-1);
	}
	return (0);
}

int
gen_kind(void)
{
	return (gen_which);
}

size_t
gen_nrows(void)
{
	return (gen_nrow);
}

/* The actor prefix queried by the prefix workload. */
const char *
gen_prefix(void)
{
	return ("SYR");
}

static void
gen_title(uint64_t *s, char *buf, size_t len)
{
	size_t	n = 0, nw = sizeof gen_words / sizeof *gen_words, wl;
	const char *w;

	buf[0] = '\0';
	while (n < 190 && n + 16 < len) {
		w = gen_words[gen_rand(s) % nw];
		wl = strlen(w);
		if (n > 0)
			buf[n++] = ' ';
		memcpy(buf + n, w, wl);
		n += wl;
	}
	buf[n] = '\0';
	buf[0] = buf[0] - 'a' + 'A';
}

/* The start day of synthetic record i: the first draw of its stream. */
static int32_t
gen_synth_day(uint64_t *s)
{
	return (gen_min_day + (int32_t)(gen_rand(s) %
	    (uint64_t)(gen_max_day - gen_min_day + 1)));
}

static void
gen_synth(uint64_t i, struct gen_rec *r)
{
	uint64_t	s = gen_hash(GEN_SEED ^ i);
	double		u;
	char		a[16], b[16];
	size_t		k, want, j, idx[GEN_MAX_ACTORS];
	int		dup;

	r->sday = gen_synth_day(&s);
	u = gen_unit(&s);
	if (u < 0.001)
		r->eday = r->sday + 365 + (int32_t)(gen_rand(&s) % (4 * 365));
	else if (u < 0.151)
		r->eday = r->sday + 1 + (int32_t)(gen_rand(&s) % 30);
	else
		r->eday = r->sday;
	gen_day_str(r->sday, a, sizeof a);
	if (r->eday != r->sday) {
		gen_day_str(r->eday, b, sizeof b);
		snprintf(r->start, sizeof r->start, "%s/%s", a, b);
	} else
		snprintf(r->start, sizeof r->start, "%s", a);

	want = 2 + (gen_rand(&s) & 1);
	for (k = 0; k < want;) {
		idx[k] = gen_zipf(&s);
		for (dup = 0, j = 0; j < k; j++)
			dup |= idx[j] == idx[k];
		if (!dup)
			k++;
	}
	for (k = 0; k < want; k++)
		r->actors[k] = gen_actor_names[idx[k]];
	r->nactors = want;
	snprintf(r->type, sizeof r->type, "%02d%d",
	    1 + (int)(gen_rand(&s) % 20), (int)(gen_rand(&s) % 10));
	gen_title(&s, r->title, sizeof r->title);
	r->attrs = NULL;
	r->attrs_len = 0;
}

/* A buffer writer for msgpack-c that refuses to overflow. */
struct gen_buf {
	unsigned char	*p;
	size_t		 len, cap;
	int		 failed;
};

static int
gen_buf_write(void *data, const char *p, size_t len)
{
	struct gen_buf	*b = data;

	if (b->failed || len > b->cap - b->len) {
		b->failed = 1;
		return (-1);
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
	return (0);
}

static void
gen_gdelt(uint64_t i, struct gen_rec *r)
{
	const struct gen_row	*row = &gen_rows[i % gen_nrow];
	struct gen_buf		 b = { r->abuf, 0, sizeof r->abuf, 0 };
	msgpack_packer		 pk;
	size_t			 k;

	r->sday = r->eday = row->day;
	gen_day_str(row->day, r->start, sizeof r->start);
	for (k = 0; k < row->nactors; k++)
		r->actors[k] = row->actors[k];
	r->nactors = row->nactors;
	snprintf(r->type, sizeof r->type, "%s", row->type);
	r->title[0] = '\0';
	msgpack_packer_init(&pk, &b, gen_buf_write);
	msgpack_pack_map(&pk, row->nattrs + 1);
	gen_buf_write(&b, (const char *)row->attrs, row->attrs_len);
	msgpack_pack_str_with_body(&pk, "copy", 4);
	msgpack_pack_uint64(&pk, i / gen_nrow);
	r->attrs = b.failed ? NULL : r->abuf;
	r->attrs_len = b.failed ? 0 : b.len;
}

void
gen_record(uint64_t i, struct gen_rec *r)
{
	if (gen_which == GEN_GDELT)
		gen_gdelt(i, r);
	else
		gen_synth(i, r);
}

/* The start day of record i, without generating the rest of it. */
int32_t
gen_record_day(uint64_t i)
{
	uint64_t	s = gen_hash(GEN_SEED ^ i);

	if (gen_which == GEN_GDELT)
		return (gen_rows[i % gen_nrow].day);
	return (gen_synth_day(&s));
}

/* An actor to ask about: as often as actors occur in the records. */
const char *
gen_query_actor(uint64_t *s)
{
	const struct gen_row	*row;

	if (gen_which == GEN_GDELT) {
		row = &gen_rows[gen_rand(s) % gen_nrow];
		return (row->actors[gen_rand(s) % row->nactors]);
	}
	return (gen_actor_names[gen_zipf(s)]);
}

/*
 * The first day of a window of len days: uniform over the synthetic
 * years, or the day of a random row for GDELT, whose rows bunch up in a
 * few months.
 */
int32_t
gen_query_day(uint64_t *s, int32_t len)
{
	if (gen_which == GEN_GDELT)
		return (gen_rows[gen_rand(s) % gen_nrow].day -
		    (int32_t)(gen_rand(s) % (uint64_t)len));
	return (gen_min_day + (int32_t)(gen_rand(s) %
	    (uint64_t)(gen_max_day - gen_min_day - len + 2)));
}

/*
 * Pack r as a wire record (the map annalsd stores, less the server
 * fields) into buf; returns its length, or 0 when it does not fit.
 */
size_t
gen_pack(const struct gen_rec *r, unsigned char *buf, size_t len)
{
	struct gen_buf	 b = { buf, 0, len, 0 };
	msgpack_packer	 pk;
	size_t		 k;

	msgpack_packer_init(&pk, &b, gen_buf_write);
	msgpack_pack_map(&pk, 3 + (r->title[0] != '\0') + (r->attrs != NULL));
	msgpack_pack_str_with_body(&pk, "start", 5);
	msgpack_pack_str_with_body(&pk, r->start, strlen(r->start));
	msgpack_pack_str_with_body(&pk, "actors", 6);
	msgpack_pack_array(&pk, r->nactors);
	for (k = 0; k < r->nactors; k++)
		msgpack_pack_str_with_body(&pk, r->actors[k],
		    strlen(r->actors[k]));
	msgpack_pack_str_with_body(&pk, "type", 4);
	msgpack_pack_str_with_body(&pk, r->type, strlen(r->type));
	if (r->title[0] != '\0') {
		msgpack_pack_str_with_body(&pk, "title", 5);
		msgpack_pack_str_with_body(&pk, r->title, strlen(r->title));
	}
	if (r->attrs != NULL) {
		msgpack_pack_str_with_body(&pk, "attrs", 5);
		gen_buf_write(&b, (const char *)r->attrs, r->attrs_len);
	}
	return (b.failed ? 0 : b.len);
}
