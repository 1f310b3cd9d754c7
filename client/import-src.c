/*
 * The bytes of an import's input, cut into lines: zlib reads plain and
 * gzip files alike (a file or stdin), libarchive the entries of a zip.
 * Lines can be given back to be read again, which is how the driver
 * reads the lines of a broken multi-line CSV record as rows of their
 * own.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "import.h"

static void	import_src_trim(struct import_src *);

static ssize_t
import_src_fill(struct import_src *s, unsigned char *p, size_t n,
    const char **why)
{
	la_ssize_t	r;
	int		e, zerr;

	if (s->gz != NULL) {
		if ((e = gzread(s->gz, p, (unsigned)n)) < 0) {
			*why = gzerror(s->gz, &zerr);
			if (zerr == Z_ERRNO)
				*why = strerror(errno);
			return (-1);
		}
		/*
		 * A stream cut short (an interrupted download) ends like a
		 * whole one; only gzerror() tells them apart, and the line
		 * being read must not be taken for a row.
		 */
		if (e == 0) {
			gzerror(s->gz, &zerr);
			if (zerr == Z_BUF_ERROR) {
				*why = "gzip data ends early: the file is "
				    "truncated";
				return (-1);
			}
		}
		return (e);
	}
	if ((r = archive_read_data(s->ar, p, n)) < 0) {
		*why = archive_error_string(s->ar);
		return (-1);
	}
	return (r);
}

/*
 * The next line, without its newline; *line is valid until the next
 * call.  A CR before the newline stays: inside a quoted CSV field it is
 * text, and only the splitter knows where a field ends.  Returns 1, 0 at
 * the end, -1 when reading failed (*why says why).
 */
int
import_src_line(struct import_src *s, char **line, size_t *len,
    const char **why)
{
	unsigned char	*nl, *nb;
	size_t		 avail, nsize;
	ssize_t		 r;

	/* The last line given back was returned before: drop them. */
	if (s->pend != NULL && s->pendoff >= s->pendlen)
		import_src_trim(s);
	if (s->pend != NULL) {
		*line = s->pend + s->pendoff;
		nl = memchr(*line, '\n', s->pendlen - s->pendoff);
		*len = nl != NULL ? (size_t)((char *)nl - *line) :
		    s->pendlen - s->pendoff;
		s->pendoff += *len + 1;
		if (s->pendoff >= s->pendlen) {
			/* The line stays readable: keep pend until later. */
			s->pendoff = s->pendlen;
		}
		s->lineno++;
		goto done;
	}
	for (;;) {
		avail = s->len - s->off;
		nl = avail > 0 ? memchr(s->buf + s->off, '\n', avail) : NULL;
		if (nl != NULL || (s->eof && avail > 0)) {
			*line = (char *)s->buf + s->off;
			*len = nl != NULL ? (size_t)(nl - (s->buf + s->off)) :
			    avail;
			s->off += *len + (nl != NULL);
			s->lineno++;
			break;
		}
		if (s->eof)
			return (0);
		if (s->off > 0) {
			memmove(s->buf, s->buf + s->off, avail);
			s->len = avail;
			s->off = 0;
		}
		if (s->size - s->len < IMPORT_CHUNK) {
			nsize = s->size == 0 ? 4 * IMPORT_CHUNK : s->size * 2;
			if (nsize > IMPORT_MAX_ROW + 4 * IMPORT_CHUNK) {
				*why = "line longer than 4 MiB";
				return (-1);
			}
			if ((nb = realloc(s->buf, nsize)) == NULL) {
				*why = "out of memory";
				return (-1);
			}
			s->buf = nb;
			s->size = nsize;
		}
		if ((r = import_src_fill(s, s->buf + s->len, s->size - s->len,
		    why)) < 0)
			return (-1);
		if (r == 0)
			s->eof = 1;
		s->len += r;
	}
done:
	if (s->first) {
		s->first = 0;
		/* A byte order mark is not part of the first field. */
		if (*len >= 3 && memcmp(*line, "\xef\xbb\xbf", 3) == 0) {
			*line += 3;
			*len -= 3;
		}
	}
	(*line)[*len] = '\0';
	return (1);
}

/*
 * Give back len bytes of lines (joined by '\n') to be read again, the
 * first of them being line number lineno.
 */
int
import_src_unread(struct import_src *s, const char *text, size_t len,
    size_t lineno)
{
	char	*p, *old = s->pend;
	size_t	 rest = 0;

	if (old != NULL)
		rest = s->pendlen - s->pendoff;
	if ((p = malloc(len + 1 + rest + 1)) == NULL)
		return (-1);
	memcpy(p, text, len);
	p[len] = '\n';
	if (rest > 0)
		memcpy(p + len + 1, old + s->pendoff, rest);
	p[len + 1 + rest] = '\0';
	free(old);
	s->pend = p;
	s->pendoff = 0;
	s->pendlen = len + 1 + rest;
	s->lineno = lineno - 1;
	return (0);
}

/* Drop given-back text once it has all been read. */
static void
import_src_trim(struct import_src *s)
{
	if (s->pend != NULL && s->pendoff >= s->pendlen) {
		free(s->pend);
		s->pend = NULL;
		s->pendoff = s->pendlen = 0;
	}
}

/* Read an open file, plain or gzip; -1 (fd closed) when out of memory. */
int
import_src_open(struct import_src *s, int fd)
{
	memset(s, 0, sizeof *s);
	if ((s->gz = gzdopen(fd, "rb")) == NULL) {
		close(fd);
		return (-1);
	}
	gzbuffer(s->gz, IMPORT_CHUNK);
	return (0);
}

/* Close what import_src_open() or import_src_zip_next() opened. */
void
import_src_close(struct import_src *s)
{
	if (s->gz != NULL)
		gzclose(s->gz);
	free(s->pend);
	free(s->buf);
	memset(s, 0, sizeof *s);
}

/* Where reading stands, in bytes of the file as stored. */
off_t
import_src_offset(const struct import_src *s)
{
	off_t	pos = 0;

	if (s->gz != NULL)
		pos = gzoffset(s->gz);
	else if (s->ar != NULL)
		pos = archive_filter_bytes(s->ar, -1);
	return (pos < 0 ? 0 : pos);
}

/* Whether the file starts like a zip archive. */
int
import_src_is_zip(const char *path)
{
	unsigned char	magic[4];
	int		fd, zip = 0;

	if (import_name_ends(path, ".zip"))
		return (1);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (0);
	if (read(fd, magic, 4) == 4 && memcmp(magic, "PK\003\004", 4) == 0)
		zip = 1;
	close(fd);
	return (zip);
}


/* Open a zip file, to read its entries; NULL with err set on failure. */
struct archive *
import_src_zip_open(const char *path, struct aerr *err)
{
	struct archive	*ar;

	if ((ar = archive_read_new()) == NULL) {
		aerr_set(err, AERR_NOMEM, "out of memory");
		return (NULL);
	}
	archive_read_support_format_zip(ar);
	if (archive_read_open_filename(ar, path, IMPORT_CHUNK) !=
	    ARCHIVE_OK) {
		aerr_set(err, AERR_INVALID, "%s", archive_error_string(ar));
		archive_read_free(ar);
		return (NULL);
	}
	return (ar);
}

/*
 * The next file in a zip as s, its hint the entry's path (valid until
 * the next call); close s with import_src_close() before the next call.
 * Returns 1, 0 after the last entry, -1 with err set.
 */
int
import_src_zip_next(struct archive *ar, struct import_src *s,
    struct aerr *err)
{
	struct archive_entry	*ent;
	int			 r;

	for (;;) {
		r = archive_read_next_header(ar, &ent);
		if (r == ARCHIVE_EOF)
			return (0);
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			aerr_set(err, AERR_INVALID, "%s",
			    archive_error_string(ar));
			return (-1);
		}
		if (archive_entry_filetype(ent) == AE_IFREG)
			break;
	}
	memset(s, 0, sizeof *s);
	s->ar = ar;
	s->hint = archive_entry_pathname(ent);
	return (1);
}

void
import_src_zip_close(struct archive *ar)
{
	archive_read_free(ar);
}
