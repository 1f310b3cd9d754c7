/*
 * Words of titles and texts, and of text queries (words.c): Unicode word
 * boundaries (UAX #29), case folding and accents stripped (NFKD without
 * its combining marks, Latin letters then spelled in ASCII), all by ICU.
 * The store indexes and the queries look up the same folded words
 * (proto/PROTOCOL.md, "Text search").
 */
#ifndef ANNALSD_WORDS_H
#define ANNALSD_WORDS_H

#include <stddef.h>
#include <stdint.h>

/*
 * The folding rules' version, kept in the store's meta "text_fold" by
 * the word index built with them: a store whose words were folded by
 * other rules is indexed again when opened (store_text_open).  Raise
 * it with any change to what a word folds to.  1: case, NFKD and marks
 * (no "text_fold"); 2: Latin letters then spelled in ASCII.
 */
#define WORDS_FOLD	2
/* Folded words are cut to this many bytes (at a character boundary). */
#define WORDS_MAX_BYTES	64
/* A text query holds at most this many words. */
#define WORDS_QUERY_MAX	16

/* A list of folded words, each NUL-terminated in buf. */
struct words {
	char		*buf;
	size_t		 len, cap;
	uint32_t	*off;		/* where word i starts in buf */
	size_t		 n, ncap;
};

void	 words_init(struct words *);
void	 words_free(struct words *);
void	 words_reset(struct words *);
struct words *words_scratch(void);
int	 words_split(struct words *, const char *, size_t);
const char *words_at(const struct words *, size_t);
int	 words_has_seq(const struct words *, const struct words *, size_t,
	     size_t);
void	 words_unique(struct words *);

/* A parsed text query: words to find, and phrases to check. */
struct text_term {
	char		 word[WORDS_MAX_BYTES + 1];
	int		 prefix;	/* "negotiat*" */
};
struct text_query {
	struct text_term terms[WORDS_QUERY_MAX];
	size_t		 nterms;
	struct words	 all;		/* every word, in order */
	struct {
		size_t	 first, n;	/* a run of all */
	}		 phrases[WORDS_QUERY_MAX];
	size_t		 nphrases;
};

int	 text_query_parse(const char *, struct text_query *, char *, size_t);
void	 text_query_free(struct text_query *);

#endif
