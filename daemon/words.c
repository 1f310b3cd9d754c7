/*
 * Splitting text into folded words with ICU: its word break iterator
 * finds the words (UAX #29: letters, digits, kana and ideographs; not
 * spaces or punctuation), then each word is case folded and decomposed
 * (NFKD) and its combining marks dropped, so that "Négociations",
 * "NEGOCIATIONS" and "négociations" are one word, as are "Ёлка" and
 * "елка", or Arabic with and without its short vowels.  Latin letters
 * that Unicode does not decompose ("ł", "ø", "đ", "ı", "æ") are then
 * spelled in ASCII by ICU's Latin-ASCII transliterator, held to Latin
 * letters, so that "Łódź" is "lodz" as its readers take it; the other
 * scripts keep their letters.
 *
 * A break iterator is costly to open, so each thread keeps one and
 * gives it new text; it is closed when the thread ends.  Each thread
 * keeps its own transliterator too, as one may not be used by two
 * threads at once, opened when the thread first needs it: it costs more
 * than the rest of the folding, so only words that still hold a Latin
 * letter beyond ASCII after the rest go through it.  Words of ASCII
 * letters and digits, most words of most feeds, skip the folding calls:
 * lowercase is all that folding and decomposing would do to them.  Text
 * that is all ASCII, most titles, skips ICU altogether: for ASCII, word
 * boundaries come down to a few rules (words_split_ascii).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>
#include <unicode/utrans.h>

#include "annalsd.h"
#include "words.h"

static pthread_key_t	words_key;
static pthread_once_t	words_once = PTHREAD_ONCE_INIT;

/* One thread's break iterator and buffers. */
struct words_tls {
	UBreakIterator	*brk;
	UTransliterator	*latin;		/* words_latin(); NULL until needed */
	UChar		*text;		/* the UTF-16 of the text split */
	int32_t		 tcap;
	struct words	 scratch;	/* words_scratch() */
};

static void
words_tls_free(void *p)
{
	struct words_tls	*t = p;

	if (t == NULL)
		return;
	if (t->brk != NULL)
		ubrk_close(t->brk);
	if (t->latin != NULL)
		utrans_close(t->latin);
	free(t->text);
	words_free(&t->scratch);
	free(t);
}

static void
words_key_init(void)
{
	if (pthread_key_create(&words_key, words_tls_free) != 0)
		fatalx("pthread_key_create");
}

static struct words_tls *
words_tls(void)
{
	struct words_tls	*t;
	UErrorCode		 status = U_ZERO_ERROR;

	pthread_once(&words_once, words_key_init);
	if ((t = pthread_getspecific(words_key)) != NULL)
		return (t);
	t = xcalloc(1, sizeof *t);
	t->brk = ubrk_open(UBRK_WORD, "", NULL, 0, &status);
	if (U_FAILURE(status))
		fatalx("ubrk_open: %s", u_errorName(status));
	if (pthread_setspecific(words_key, t) != 0)
		fatalx("pthread_setspecific");
	return (t);
}

void
words_init(struct words *w)
{
	memset(w, 0, sizeof *w);
}

void
words_free(struct words *w)
{
	free(w->buf);
	free(w->off);
	memset(w, 0, sizeof *w);
}

void
words_reset(struct words *w)
{
	w->len = 0;
	w->n = 0;
}

/*
 * The calling thread's own list, emptied: for a writer that splits one
 * event after another, so that its buffers are allocated once.
 */
struct words *
words_scratch(void)
{
	struct words_tls	*t = words_tls();

	words_reset(&t->scratch);
	return (&t->scratch);
}

const char *
words_at(const struct words *w, size_t i)
{
	return (w->buf + w->off[i]);
}

/* Append a word of len bytes, cut to WORDS_MAX_BYTES whole characters. */
static void
words_add(struct words *w, const char *s, size_t len)
{
	size_t	cut;

	if (len > WORDS_MAX_BYTES) {
		/* Back up over continuation bytes to a character's start. */
		for (cut = WORDS_MAX_BYTES; cut > 0 &&
		    ((unsigned char)s[cut] & 0xc0) == 0x80; cut--)
			;
		len = cut;
	}
	if (len == 0)
		return;
	if (w->len + len + 1 > w->cap) {
		w->cap = (w->len + len + 1) * 2;
		w->buf = xreallocarray(w->buf, w->cap, 1);
	}
	if (w->n == w->ncap) {
		w->ncap = w->ncap ? w->ncap * 2 : 16;
		w->off = xreallocarray(w->off, w->ncap, sizeof *w->off);
	}
	w->off[w->n++] = (uint32_t)w->len;
	memcpy(w->buf + w->len, s, len);
	w->len += len;
	w->buf[w->len++] = '\0';
}

/*
 * Spell the Latin letters of the folded word s[0..*n) in ASCII, in
 * place in s of cap units, with the calling thread's transliterator:
 * "ł" is "l", "ø" "o", "æ" "ae", "þ" "th".  Only Latin letters change
 * (the filter), so that a word mixing scripts keeps the others as they
 * were; those with no ASCII spelling ("ə") stay.  A Latin letter,
 * folded, becomes at most two units (every one of ICU 72's), so cap is
 * to be twice *n.  Latin-ASCII spells small capitals ("ʀ") as capitals:
 * words_fold lowers them, with any that NFKD left ("ℌ" is "H").
 */
static void
words_latin(UChar *s, int32_t *n, int32_t cap)
{
	static const char	 id[] = "[:Latin:] Latin-ASCII";
	struct words_tls	*t = words_tls();
	UChar			 uid[sizeof id];
	UErrorCode		 status = U_ZERO_ERROR;
	int32_t			 limit = *n, len = *n;

	if (t->latin == NULL) {
		u_charsToUChars(id, uid, (int32_t)sizeof id);
		t->latin = utrans_openU(uid, -1, UTRANS_FORWARD, NULL, 0,
		    NULL, &status);
		if (U_FAILURE(status))
			fatalx("utrans_openU %s: %s", id, u_errorName(status));
	}
	utrans_transUChars(t->latin, s, &len, cap, 0, &limit, &status);
	/* Should it not fit, the word stays as it was folded. */
	if (U_SUCCESS(status))
		*n = limit;
}

/* Fold the word s[0..n) (UTF-16) and append it. */
static void
words_fold(struct words *w, const UChar *s, int32_t n)
{
	UChar		 fold[WORDS_MAX_BYTES * 2], norm[WORDS_MAX_BYTES * 4];
	char		 out[WORDS_MAX_BYTES * 4 + 4], ascii[WORDS_MAX_BYTES];
	const UNormalizer2 *nfkd;
	UErrorCode	 status = U_ZERO_ERROR;
	UChar32		 c;
	int32_t		 i, nf, nn, nk = 0, no = 0;
	int		 latin = 0;

	/* Longer words are cut: no need to fold beyond what is kept. */
	if (n > WORDS_MAX_BYTES)
		n = WORDS_MAX_BYTES;
	for (i = 0; i < n && s[i] < 0x80; i++)
		ascii[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 :
		    s[i]);
	if (i == n) {
		words_add(w, ascii, (size_t)n);
		return;
	}
	nf = u_strFoldCase(fold, (int32_t)(sizeof fold / sizeof *fold), s, n,
	    U_FOLD_CASE_DEFAULT, &status);
	nfkd = unorm2_getNFKDInstance(&status);
	if (U_FAILURE(status))
		return;
	nn = unorm2_normalize(nfkd, fold, nf, norm,
	    (int32_t)(sizeof norm / sizeof *norm), &status);
	if (U_FAILURE(status))
		return;
	/*
	 * Drop the marks, in place (no character is written further on
	 * than it was read), noting a Latin letter beyond ASCII.  Up to
	 * half of norm is kept, for words_latin to double: more characters
	 * than the WORDS_MAX_BYTES bytes that words_add keeps.
	 */
	for (i = 0; i < nn && nk < (int32_t)(sizeof norm / sizeof *norm) / 2 -
	    1;) {
		U16_NEXT(norm, i, nn, c);
		if (u_charType(c) == U_NON_SPACING_MARK)
			continue;
		if (c >= 0x80 && !latin)
			latin = uscript_getScript(c, &status) == USCRIPT_LATIN;
		U16_APPEND_UNSAFE(norm, nk, c);
	}
	if (latin)
		words_latin(norm, &nk, (int32_t)(sizeof norm / sizeof *norm));
	for (i = 0; i < nk && no < (int32_t)sizeof out - 4;) {
		U16_NEXT(norm, i, nk, c);
		if (c >= 'A' && c <= 'Z')
			c += 32;
		U8_APPEND_UNSAFE(out, no, c);
	}
	words_add(w, out, (size_t)no);
}

/*
 * Split the UTF-16 text s[0..n) into words; for each, call fn with the
 * index of the UTF-16 unit after it, after appending it to w.
 */
typedef void (*words_end_fn)(void *, const UChar *, int32_t, int32_t);

static int
words_split16(struct words *w, const UChar *s, int32_t n, words_end_fn fn,
    void *arg)
{
	struct words_tls	*t = words_tls();
	UErrorCode		 status = U_ZERO_ERROR;
	int32_t			 a, b;

	ubrk_setText(t->brk, s, n, &status);
	if (U_FAILURE(status))
		return (-1);
	for (a = ubrk_first(t->brk); (b = ubrk_next(t->brk)) != UBRK_DONE;
	    a = b) {
		if (ubrk_getRuleStatus(t->brk) < UBRK_WORD_NONE_LIMIT)
			continue;
		words_fold(w, s + a, b - a);
		if (fn != NULL)
			fn(arg, s, n, b);
	}
	/* It still points at s, the thread's buffer: set before each use. */
	return (0);
}

/* UTF-8 to UTF-16 in the thread's buffer; invalid bytes become U+FFFD. */
static UChar *
words_utf16(const char *s, size_t len, int32_t *n)
{
	struct words_tls	*t = words_tls();
	UErrorCode		 status = U_ZERO_ERROR;
	int32_t			 need;

	need = (int32_t)len + 1;
	if (need > t->tcap) {
		t->tcap = need;
		t->text = xreallocarray(t->text, (size_t)need, sizeof *t->text);
	}
	u_strFromUTF8WithSub(t->text, t->tcap, n, s, (int32_t)len, 0xfffd,
	    NULL, &status);
	if (U_FAILURE(status))
		return (NULL);
	return (t->text);
}

/*
 * What UAX #29 makes of an ASCII character, as ICU's word rules have it:
 * letters, digits and '_' (ExtendNumLet) make words; '.' and '\'' join
 * letters to letters and digits to digits, ',' and ';' digits to digits
 * ("U.S", "don't", "3.5", "1,000").  ICU counts '@' as a letter (for
 * addresses) and takes ':' out of MidLetter, so that ':' joins nothing,
 * as every other character.
 */
enum { WA_OTHER, WA_LETTER, WA_DIGIT, WA_EXTEND, WA_MIDNUMLET, WA_MIDNUM,
    WA_HIGH };
/* Whether a class makes words (not a joiner, not other). */
#define WA_WORD(c)	((c) >= WA_LETTER && (c) <= WA_EXTEND)

/*
 * Each byte's class (WA_HIGH: not ASCII), its folded self, and that of
 * a byte that makes words, 0 for the others.
 */
static unsigned char	words_ascii[256], words_lower[128], words_wfold[256];
static pthread_once_t	words_ascii_once = PTHREAD_ONCE_INIT;

static void
words_ascii_init(void)
{
	int	c;

	for (c = 0; c < 256; c++) {
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '@')
			words_ascii[c] = WA_LETTER;
		else if (c >= '0' && c <= '9')
			words_ascii[c] = WA_DIGIT;
		else if (c >= 0x80)
			words_ascii[c] = WA_HIGH;
		if (c < 128)
			words_lower[c] = (unsigned char)(c >= 'A' && c <= 'Z' ?
			    c + 32 : c);
	}
	words_ascii['_'] = WA_EXTEND;
	words_ascii['.'] = words_ascii['\''] = WA_MIDNUMLET;
	words_ascii[','] = words_ascii[';'] = WA_MIDNUM;
	for (c = 0; c < 128; c++) {
		if (WA_WORD(words_ascii[c]))
			words_wfold[c] = words_lower[c];
	}
}

/*
 * Split ASCII text as ICU would (tests/t-store.c compares the two on
 * random text), without its break iterator and the UTF-16 copy: most
 * titles of most feeds are ASCII, and the iterator is most of what
 * indexing a title costs.  Folding ASCII is lowering it, done as each
 * byte is read: one pass, as indexing a title runs for every event.
 * Returns -1, having added nothing, when the text is not all ASCII.
 */
static int
words_split_ascii(struct words *w, const unsigned char *s, size_t len)
{
	const unsigned char	*end = s + len;
	size_t			 len0 = w->len, n0 = w->n, n;
	char			*o;
	int			 c, next, f;

	pthread_once(&words_ascii_once, words_ascii_init);
	/* Room for every word, lowered, and its NUL. */
	if (w->len + 2 * len + 1 > w->cap) {
		w->cap = (w->len + 2 * len + 1) * 2;
		w->buf = xreallocarray(w->buf, w->cap, 1);
	}
	while (s < end) {
		c = words_ascii[*s];
		if (!WA_WORD(c)) {
			if (c == WA_HIGH)
				goto not_ascii;
			s++;
			continue;
		}
		o = w->buf + w->len;
		o[0] = (char)words_lower[*s];
		for (n = 1, s++; s < end; s++) {
			/* Most bytes: one more of the word. */
			if ((f = words_wfold[*s]) != 0) {
				o[n++] = (char)f;
				continue;
			}
			next = words_ascii[*s];
			c = words_ascii[s[-1]];		/* the word's last */
			if (s + 1 < end && (c == WA_LETTER ||
			    c == WA_DIGIT) && (next == WA_MIDNUMLET ||
			    (next == WA_MIDNUM && c == WA_DIGIT)) &&
			    words_ascii[s[1]] == c) {
				/* WB6, WB7, WB11, WB12: a joiner between two
				 * alike. */
				o[n++] = (char)*s++;
				o[n++] = (char)words_wfold[*s];
			} else if (next == WA_HIGH)
				goto not_ascii;
			else
				break;
		}
		/* A lone '_' is no word; ASCII is cut anywhere. */
		if (n == 1 && words_ascii[(unsigned char)o[0]] == WA_EXTEND)
			continue;
		if (n > WORDS_MAX_BYTES)
			n = WORDS_MAX_BYTES;
		if (w->n == w->ncap) {
			w->ncap = w->ncap ? w->ncap * 2 : 16;
			w->off = xreallocarray(w->off, w->ncap,
			    sizeof *w->off);
		}
		o[n] = '\0';
		w->off[w->n++] = (uint32_t)w->len;
		w->len += n + 1;
	}
	return (0);
not_ascii:
	w->len = len0;
	w->n = n0;
	return (-1);
}

/* Append the words of the UTF-8 text s (len bytes) to w. */
int
words_split(struct words *w, const char *s, size_t len)
{
	UChar	*u;
	int32_t	 n;

	if (len == 0 || words_split_ascii(w, (const unsigned char *)s,
	    len) == 0)
		return (0);
	if ((u = words_utf16(s, len, &n)) == NULL)
		return (-1);
	return (words_split16(w, u, n, NULL, NULL));
}

/* Whether hay holds the words of needle first..first+n in a row. */
int
words_has_seq(const struct words *hay, const struct words *needle,
    size_t first, size_t n)
{
	size_t	i, j;

	for (i = 0; i + n <= hay->n; i++) {
		for (j = 0; j < n; j++) {
			if (strcmp(words_at(hay, i + j),
			    words_at(needle, first + j)) != 0)
				break;
		}
		if (j == n)
			return (1);
	}
	return (0);
}

static int
words_sort_cmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/*
 * Drop repeated words, the list being as words_split leaves it: each
 * word after the one before in buf.  buf then holds the words kept, one
 * after the other, and len their bytes, so that the index stages them
 * with one copy.  A title has ten-odd words: each is compared with the
 * ones kept, by its length and first and last bytes first (many words
 * have a length in common), and the first of each stays.  A long text
 * is sorted.
 */
void
words_unique(struct words *w)
{
	uint32_t	 key[32], l, k, at = 0;
	size_t		 i, j, n = 0;
	const unsigned char *p;

	if (w->n > 32) {
		const char	**sorted = xreallocarray(NULL, w->n,
				    sizeof *sorted);
		char		 *buf = xreallocarray(NULL, w->len + 1, 1);

		for (i = 0; i < w->n; i++)
			sorted[i] = words_at(w, i);
		qsort(sorted, w->n, sizeof *sorted, words_sort_cmp);
		for (i = 0; i < w->n; i++) {
			if (n > 0 &&
			    strcmp(sorted[i], buf + w->off[n - 1]) == 0)
				continue;
			l = (uint32_t)strlen(sorted[i]) + 1;
			memcpy(buf + at, sorted[i], l);
			w->off[n++] = at;
			at += l;
		}
		free(sorted);
		free(w->buf);
		w->buf = buf;
		w->cap = w->len + 1;
		w->len = at;
		w->n = n;
		return;
	}
	for (i = 0; i < w->n; i++) {
		/* With its NUL; kept words sit before at, at or before i. */
		l = (uint32_t)(i + 1 < w->n ? w->off[i + 1] : w->len) -
		    w->off[i];
		p = (const unsigned char *)w->buf + w->off[i];
		k = (l & 0xff) | (uint32_t)p[0] << 8 | (uint32_t)p[l - 2] << 16;
		for (j = 0; j < n; j++) {
			if (key[j] == k &&
			    memcmp(w->buf + w->off[j], p, l) == 0)
				break;
		}
		if (j < n)
			continue;
		key[n] = k;
		if (at != w->off[i])
			memmove(w->buf + at, p, l);
		w->off[n++] = at;
		at += l;
	}
	w->len = at;
	w->n = n;
}

/* The query parser's place while splitting an unquoted run. */
struct words_query_pos {
	struct text_query	*tq;
	int			 quoted;
};

/* After a word of the query: a term, a prefix when '*' follows. */
static void
words_query_word(void *arg, const UChar *s, int32_t n, int32_t end)
{
	struct words_query_pos	*qp = arg;
	struct text_query	*tq = qp->tq;
	struct text_term	*t;
	const char		*word = words_at(&tq->all, tq->all.n - 1);
	int			 prefix = !qp->quoted && end < n &&
				    s[end] == '*';
	size_t			 i;

	for (i = 0; i < tq->nterms; i++) {
		t = &tq->terms[i];
		if (strcmp(t->word, word) == 0) {
			/* "talk talk*": the word itself is asked for. */
			t->prefix &= prefix;
			return;
		}
	}
	if (tq->nterms == WORDS_QUERY_MAX) {
		tq->nterms++;		/* too many: the caller says so */
		return;
	}
	t = &tq->terms[tq->nterms++];
	snprintf(t->word, sizeof t->word, "%s", word);
	t->prefix = prefix;
}

/*
 * Parse a text query: words, each of which an event must hold, a word
 * ending in '*' for any word it begins, and phrases in double quotes,
 * whose words must also stand in that order.  Returns 0, or -1 with a
 * reason in msg.
 */
int
text_query_parse(const char *q, struct text_query *tq, char *msg,
    size_t msglen)
{
	struct words_query_pos	 qp = { tq, 0 };
	const char		*p = q, *e;
	UChar			*u;
	int32_t			 n;
	size_t			 before;

	memset(tq, 0, sizeof *tq);
	while (*p != '\0') {
		qp.quoted = *p == '"';
		if (qp.quoted) {
			p++;
			if ((e = strchr(p, '"')) == NULL)
				e = p + strlen(p);
		} else if ((e = strchr(p, '"')) == NULL)
			e = p + strlen(p);
		before = tq->all.n;
		if (e > p && ((u = words_utf16(p, (size_t)(e - p), &n)) ==
		    NULL || words_split16(&tq->all, u, n, words_query_word,
		    &qp) != 0)) {
			snprintf(msg, msglen, "text: not valid UTF-8");
			goto fail;
		}
		if (tq->nterms > WORDS_QUERY_MAX) {
			snprintf(msg, msglen, "text: more than %d words",
			    WORDS_QUERY_MAX);
			goto fail;
		}
		if (qp.quoted && tq->all.n - before > 1) {
			if (tq->nphrases == WORDS_QUERY_MAX) {
				snprintf(msg, msglen, "text: more than %d "
				    "phrases", WORDS_QUERY_MAX);
				goto fail;
			}
			tq->phrases[tq->nphrases].first = before;
			tq->phrases[tq->nphrases++].n = tq->all.n - before;
		}
		p = qp.quoted && *e == '"' ? e + 1 : e;
	}
	if (tq->nterms == 0) {
		snprintf(msg, msglen, "text: holds no word");
		goto fail;
	}
	return (0);
fail:
	text_query_free(tq);
	return (-1);
}

void
text_query_free(struct text_query *tq)
{
	words_free(&tq->all);
	memset(tq, 0, sizeof *tq);
}
