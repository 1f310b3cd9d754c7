# Annals: annalsd (daemon/), libannals and the annals CLI (client/), the
# shared wire code (proto/) and the tests (tests/).
#
#   make            build everything into build/
#   make run        build, then start annalsd on ./var with the demo data
#   make test       build and run every test
#   make test-san   the same under AddressSanitizer + UBSan (build-san/)
#   make install    PREFIX=/usr/local DESTDIR=
#
# Missing build dependencies are installed with apt-get when running as
# root, and named otherwise (the deps step).

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
LIBDIR	?= $(PREFIX)/lib
INCDIR	?= $(PREFIX)/include
MANDIR	?= $(PREFIX)/share/man
CFLAGS	?= -O2 -g
SAN	?=

ifeq ($(SAN),1)
B	?= build-san
override CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
else
B	?= build
endif

override CFLAGS += -std=c11 -D_DEFAULT_SOURCE -fPIC -fvisibility=hidden \
	-Wall -Wextra -Werror -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Wmissing-declarations -Wwrite-strings -Wshadow \
	-Wpointer-arith -Wundef -MMD -MP

# pkg-config name -> Debian package, for the deps step.
PKGS	:= lmdb:liblmdb-dev libevent:libevent-dev msgpack:libmsgpack-dev \
	jansson:libjansson-dev zlib:zlib1g-dev
PKG_NAMES := $(foreach p,$(PKGS),$(firstword $(subst :, ,$(p))))
DEBS	:= pkg-config $(foreach p,$(PKGS),$(lastword $(subst :, ,$(p))))

# Expanded when a recipe runs, which is after the deps step.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKG_NAMES))
PKG_LIBS = $(shell pkg-config --libs $(PKG_NAMES)) -lpthread

VERSION	:= $(shell sed -n 's/^\#define ANNALS_VERSION_STRING "\(.*\)"/\1/p' proto/version.h)
SOMAJOR	:= $(shell sed -n 's/^\#define ANNALS_VERSION_MAJOR //p' proto/version.h)

PROTO_SRC	:= $(wildcard proto/*.c)
DAEMON_SRC	:= $(filter-out daemon/annalsd.c,$(wildcard daemon/*.c))
LIB_SRC		:= $(filter-out client/cli%.c client/output.c client/json.c \
		    client/import%.c,$(wildcard client/*.c))
CLI_SRC		:= $(filter-out $(LIB_SRC),$(wildcard client/*.c))
TEST_SRC	:= $(wildcard tests/t-*.c)
TEST_SUPPORT	:= $(filter-out tests/runner.c,$(filter-out $(TEST_SRC),\
		    $(wildcard tests/*.c)))

obj = $(patsubst %.c,$(B)/%.o,$(1))
PROTO_OBJ	:= $(call obj,$(PROTO_SRC))
DAEMON_OBJ	:= $(call obj,$(DAEMON_SRC))
LIB_OBJ		:= $(call obj,$(LIB_SRC))
CLI_OBJ		:= $(call obj,$(filter-out client/cli.c,$(CLI_SRC)))
TEST_OBJ	:= $(call obj,$(TEST_SRC))
SUPPORT_OBJ	:= $(call obj,$(TEST_SUPPORT))

PROGS	:= $(if $(wildcard daemon/annalsd.c),$(B)/annalsd) \
	   $(if $(wildcard client/cli.c),$(B)/annals)
LIBS	:= $(if $(LIB_SRC),$(B)/libannals.a $(B)/libannals.so)

.PHONY: all deps run test test-san test-crash check bench install uninstall \
	clean
all: $(PROGS) $(LIBS) $(B)/runner

# The deps step: one stamp per build directory.
deps: $(B)/.deps
$(B)/.deps:
	@missing=""; \
	command -v pkg-config >/dev/null 2>&1 || missing="pkg-config"; \
	for p in $(PKGS); do \
		pc=$${p%%:*}; deb=$${p#*:}; \
		command -v pkg-config >/dev/null 2>&1 && \
		    pkg-config --exists $$pc || missing="$$missing $$deb"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "deps: installing$$missing"; \
			apt-get update -qq && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			    $$missing >/dev/null || exit 1; \
		else \
			echo "missing build dependencies; install them with:" >&2; \
			echo "  sudo apt-get install$$missing" >&2; \
			exit 1; \
		fi; \
	fi
	@mkdir -p $(B) && touch $@

$(B)/%.o: %.c | $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(B)/libannals.a: $(LIB_OBJ) $(PROTO_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/libannals.so: $(LIB_OBJ) $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libannals.so.$(SOMAJOR) \
	    -o $@.$(VERSION) $^ $(PKG_LIBS)
	ln -sf libannals.so.$(VERSION) $(B)/libannals.so.$(SOMAJOR)
	ln -sf libannals.so.$(VERSION) $@

$(B)/annalsd: $(B)/daemon/annalsd.o $(DAEMON_OBJ) $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
	$(if $(filter build,$(B)),ln -sf $(B)/annalsd annalsd)

$(B)/annals: $(B)/client/cli.o $(CLI_OBJ) $(LIB_OBJ) $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
	$(if $(filter build,$(B)),ln -sf $(B)/annals annals)

$(B)/tests/list.c: $(TEST_OBJ) tests/gen-list.sh
	sh tests/gen-list.sh $(TEST_OBJ) > $@

$(B)/runner: $(B)/tests/runner.o $(B)/tests/list.o $(TEST_OBJ) \
    $(SUPPORT_OBJ) $(DAEMON_OBJ) $(LIB_OBJ) $(CLI_OBJ) $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/list.o: $(B)/tests/list.c
	$(CC) $(CFLAGS) -Itests -c -o $@ $<

test: all
	$(B)/runner -j 2

run: all
	sh contrib/run.sh $(B)

$(B)/annals.pc: client/annals.pc.in proto/version.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

install: all $(B)/annals.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
	    $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(B)/annalsd $(DESTDIR)$(SBINDIR)/annalsd
	install -m 755 $(B)/annals $(DESTDIR)$(BINDIR)/annals
	install -m 644 $(B)/libannals.a $(DESTDIR)$(LIBDIR)/libannals.a
	install -m 755 $(B)/libannals.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libannals.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libannals.so.$(SOMAJOR)
	ln -sf libannals.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libannals.so
	install -m 644 client/annals.h $(DESTDIR)$(INCDIR)/annals.h
	install -m 644 $(B)/annals.pc $(DESTDIR)$(LIBDIR)/pkgconfig/annals.pc
	install -m 644 client/annals.1 $(DESTDIR)$(MANDIR)/man1/annals.1
	install -m 644 client/libannals.3 $(DESTDIR)$(MANDIR)/man3/libannals.3
	install -m 644 daemon/annalsd.8 $(DESTDIR)$(MANDIR)/man8/annalsd.8

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/annalsd $(DESTDIR)$(BINDIR)/annals \
	    $(DESTDIR)$(LIBDIR)/libannals.a \
	    $(DESTDIR)$(LIBDIR)/libannals.so.$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/libannals.so.$(SOMAJOR) \
	    $(DESTDIR)$(LIBDIR)/libannals.so $(DESTDIR)$(INCDIR)/annals.h \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/annals.pc \
	    $(DESTDIR)$(MANDIR)/man1/annals.1 \
	    $(DESTDIR)$(MANDIR)/man3/libannals.3 \
	    $(DESTDIR)$(MANDIR)/man8/annalsd.8

test-san:
	$(MAKE) SAN=1 test

# Many kill -9 cycles; make test runs a few.
test-crash: all
	ANNALS_CRASH_CYCLES=$${ANNALS_CRASH_CYCLES:-50} $(B)/runner -v -t 1800 \
	    crash_kill9

check: test

clean:
	rm -rf build build-san build-fuzz annals annalsd

-include $(shell find $(B) -name '*.d' 2>/dev/null)
