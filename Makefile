# Annals: annalsd (daemon/), libannals and the annals CLI (client/), the
# shared wire code (proto/) and the tests (tests/).
#
#   make            build everything into build/
#   make run        build, then start annalsd on ./var with the demo data
#   make test       build and run every test
#   make test-san   the same under AddressSanitizer + UBSan (build-san/)
#   make test-browser  the timeline page in headless chromium
#   make fuzz       run each libFuzzer harness FUZZ_SECONDS (build-fuzz/)
#   make soak       SOAK_SECONDS of 8 clients against a real annalsd
#   make bench      annalsd's figures at BENCH_N records (tests/bench/)
#   make bench-peers  the same run against Redis and SQLite too
#   make bench-python the Python client's rates next to libannals'
#   make bench-replica  replication lag and rates through NATS JetStream
#   make bench-build  every bench driver, built and not run (CI)
#   make install    PREFIX=/usr/local DESTDIR= (BASHCOMPDIR for the
#                   bash completion, default $PREFIX/share/bash-completion/
#                   completions; UNITDIR for the systemd units, default
#                   $PREFIX/lib/systemd/system; SYSUSERSDIR and TMPFILESDIR
#                   for the annals user and directories, default
#                   $PREFIX/lib/sysusers.d and $PREFIX/lib/tmpfiles.d)
#
# Missing build dependencies are installed with apt-get when running as
# root, and named otherwise (the deps step).

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
SBINDIR	?= $(PREFIX)/sbin
LIBDIR	?= $(PREFIX)/lib
INCDIR	?= $(PREFIX)/include
MANDIR	?= $(PREFIX)/share/man
WEBDIR	?= $(PREFIX)/share/annals/web
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR	?= $(LIBDIR)/systemd/system
SYSUSERSDIR ?= $(LIBDIR)/sysusers.d
TMPFILESDIR ?= $(LIBDIR)/tmpfiles.d
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
	jansson:libjansson-dev zlib:zlib1g-dev libarchive:libarchive-dev \
	icu-uc:libicu-dev icu-i18n:libicu-dev
PKG_NAMES := $(foreach p,$(PKGS),$(firstword $(subst :, ,$(p))))

# Python module -> Debian package, for Debian's /usr/bin/python3: the
# doc and spec checkers, and the Python client (contrib/python) and its
# tests.
PYMODS	:= yaml:python3-yaml msgpack:python3-msgpack pytest:python3-pytest \
	pandas:python3-pandas setuptools:python3-setuptools pip:python3-pip \
	wheel:python3-wheel

# Command -> Debian package.  groff renders the man pages in t-docs,
# jq runs the README's get | jq | add - in t-cli-edit, which skip those
# checks only where the tools cannot be had, and t-install creates the
# annals user from the installed sysusers.d entry with systemd-sysusers.
CMDS	:= pkg-config:pkg-config curl:curl groff:groff-base jq:jq \
	systemd-sysusers:systemd

# What the deps step checks (tests/deps.sh); clang when CC is clang.
DEP_CHECKS = $(addprefix cmd:,$(CMDS)) $(addprefix pc:,$(PKGS)) \
	$(addprefix py:,$(PYMODS)) \
	$(if $(filter clang%,$(CC)),cmd:$(CC):clang)

# The NATS JetStream parts (the replica in annalsd, annals-nats and
# their tests; contrib/nats/README.md) are built when libnats is there:
# the deps step installs these when root, and otherwise only says they
# are missing, since Annals builds and tests without them.
NATS_PKG	:= libnats
NATS_CHECKS	:= pc:$(NATS_PKG):libnats-dev cmd:nats-server:nats-server

# Expanded when a recipe runs, which is after the deps step.
HAVE_NATS = $(shell pkg-config --exists $(NATS_PKG) && echo 1)
NATS_CFLAGS = $(if $(HAVE_NATS),-DHAVE_NATS $(shell pkg-config --cflags \
	$(NATS_PKG)))
NATS_LIBS = $(if $(HAVE_NATS),$(shell pkg-config --libs $(NATS_PKG)))
PKG_CFLAGS = $(shell pkg-config --cflags $(PKG_NAMES)) $(NATS_CFLAGS)
PKG_LIBS = $(shell pkg-config --libs $(filter-out icu-%,$(PKG_NAMES))) \
	-lpthread
# ICU splits and folds words for the text index (daemon/words.c), its
# i18n library spelling Latin letters in ASCII: only annalsd and the
# test runner link it, not libannals.
ICU_LIBS = $(shell pkg-config --libs icu-i18n icu-uc)

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
# JSON (jansson's) is for annalsd and annals: libannals goes without.
PROTO_LIB_OBJ	:= $(filter-out %/proto/json.o %/proto/timelinejs.o,$(PROTO_OBJ))
# The CAMEO tables, made C from daemon/cameo/*.tsv (daemon/cameo.c).
CAMEO_OBJ	:= $(B)/gen/cameo-data.o
DAEMON_OBJ	:= $(call obj,$(DAEMON_SRC)) $(CAMEO_OBJ)
LIB_OBJ		:= $(call obj,$(LIB_SRC))
CLI_OBJ		:= $(call obj,$(filter-out client/cli.c,$(CLI_SRC)))
TEST_OBJ	:= $(call obj,$(TEST_SRC))
SUPPORT_OBJ	:= $(call obj,$(TEST_SUPPORT))
# The fuzz harnesses also go into the runner (tests/t-fuzz-regress.c).
FUZZ_SRC	:= $(wildcard tests/fuzz/*.c)
FUZZ_OBJ	:= $(call obj,$(FUZZ_SRC))

PROGS	:= $(if $(wildcard daemon/annalsd.c),$(B)/annalsd) \
	   $(if $(wildcard client/cli.c),$(B)/annals) $(B)/annals-nats
LIBS	:= $(if $(LIB_SRC),$(B)/libannals.a $(B)/libannals.so)

.PHONY: all deps run test test-san test-crash check bench install uninstall \
	clean test-browser \
	bench-peers bench-check bench-python bench-replica bench-build \
	fuzz soak
all: $(PROGS) $(LIBS) $(B)/runner

# The deps step: one stamp per build directory.
deps: $(B)/.deps
# Again when the Makefile changes, as it may name a new package.
$(B)/.deps: Makefile tests/deps.sh
	@sh tests/deps.sh deps "missing build dependencies" $(DEP_CHECKS)
	@sh tests/deps.sh -o deps "the NATS parts are not built without them" \
	    $(NATS_CHECKS)
	@mkdir -p $(B) && touch $@

$(B)/%.o: %.c | $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# The archive holds one object, linked from all of them, whose hidden
# symbols (the proto/ code: date_parse, msg_parse, mp_* ...) are made
# local, so that only annals_* names can meet a user's own; the .so
# hides them by -fvisibility=hidden.  tests/exports.sh checks both.
$(B)/libannals.a: $(LIB_OBJ) $(PROTO_LIB_OBJ) Makefile
	rm -f $@
	$(LD) -r -o $(B)/libannals.o $(filter %.o,$^)
	objcopy --localize-hidden $(B)/libannals.o
	$(AR) rcs $@ $(B)/libannals.o

$(B)/libannals.so: $(LIB_OBJ) $(PROTO_LIB_OBJ)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libannals.so.$(SOMAJOR) \
	    -o $@.$(VERSION) $^ $(PKG_LIBS)
	ln -sf libannals.so.$(VERSION) $(B)/libannals.so.$(SOMAJOR)
	ln -sf libannals.so.$(VERSION) $@

$(B)/annalsd: $(B)/daemon/annalsd.o $(DAEMON_OBJ) $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(ICU_LIBS) $(NATS_LIBS)
	$(if $(filter build,$(B)),ln -sf $(B)/annalsd annalsd)

$(B)/annals: $(B)/client/cli.o $(CLI_OBJ) $(LIB_OBJ) $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)
	$(if $(filter build,$(B)),ln -sf $(B)/annals annals)

CAMEO_TSV	:= $(addprefix daemon/cameo/,countrycodes.tsv typecodes.tsv \
		    knowngroupcodes.tsv religioncodes.tsv ethniccodes.tsv)
$(B)/gen/cameo-data.c: daemon/cameo-gen.awk $(CAMEO_TSV)
	@mkdir -p $(dir $@)
	LC_ALL=C awk -f daemon/cameo-gen.awk $(CAMEO_TSV) > $@

$(CAMEO_OBJ): $(B)/gen/cameo-data.c | $(B)/.deps
	$(CC) $(CFLAGS) -Idaemon -c -o $@ $<

# The publisher of contrib/nats: without libnats it only says so.
$(B)/annals-nats: $(B)/contrib/nats/annals-nats.o $(LIB_OBJ) $(PROTO_LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(NATS_LIBS)

$(B)/tests/list.c: $(TEST_OBJ) tests/gen-list.sh
	sh tests/gen-list.sh $(TEST_OBJ) > $@

# The runner tests parts of the daemon (the store) without annalsd.c,
# which holds its globals: an archive links in only what they need.
$(B)/daemon.a: $(DAEMON_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/runner: $(B)/tests/runner.o $(B)/tests/list.o $(TEST_OBJ) \
    $(SUPPORT_OBJ) $(FUZZ_OBJ) $(B)/daemon.a $(LIB_OBJ) $(CLI_OBJ) \
    $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(ICU_LIBS) $(NATS_LIBS)

$(B)/tests/list.o: $(B)/tests/list.c
	$(CC) $(CFLAGS) -Itests -c -o $@ $<

test: all $(B)/gate-write.so
	sh tests/exports.sh $(B)/libannals.a $(B)/libannals.so
	$(B)/runner -j 2

# Preloaded into annalsd by tests (t-backup): built without the
# sanitizers, and with write() visible, so it cannot go into the runner.
$(B)/gate-write.so: tests/preload/gate-write.c
	@mkdir -p $(B)
	$(CC) -O2 -std=c11 -Wall -Wextra -Werror -fPIC -shared -o $@ $< -ldl

run: all
	sh contrib/run.sh $(B)

$(B)/annals.pc: client/annals.pc.in proto/version.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# The units of contrib/systemd that make install puts in UNITDIR: they
# name /usr/local/sbin/annalsd, the default PREFIX's, and are installed
# naming the annalsd of SBINDIR.
UNITS	:= annalsd.service annalsd-replica@.service

install: all $(B)/annals.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(B)/annalsd $(DESTDIR)$(SBINDIR)/annalsd
	install -m 755 $(B)/annals $(DESTDIR)$(BINDIR)/annals
	install -m 755 $(B)/annals-nats $(DESTDIR)$(BINDIR)/annals-nats
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do \
		sed 's|/usr/local/sbin/|$(SBINDIR)/|' contrib/systemd/$$u \
		    > $(DESTDIR)$(UNITDIR)/$$u && \
		chmod 644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -d $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 644 contrib/systemd/annals.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/annals.conf
	install -m 644 contrib/systemd/annals.tmpfiles \
	    $(DESTDIR)$(TMPFILESDIR)/annals.conf
	install -m 644 client/annals.bash $(DESTDIR)$(BASHCOMPDIR)/annals
	install -m 644 $(B)/libannals.a $(DESTDIR)$(LIBDIR)/libannals.a
	install -m 755 $(B)/libannals.so.$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libannals.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libannals.so.$(SOMAJOR)
	ln -sf libannals.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libannals.so
	install -m 644 client/annals.h $(DESTDIR)$(INCDIR)/annals.h
	install -m 644 $(B)/annals.pc $(DESTDIR)$(LIBDIR)/pkgconfig/annals.pc
	install -m 644 client/annals.1 $(DESTDIR)$(MANDIR)/man1/annals.1
	install -m 644 client/libannals.3 $(DESTDIR)$(MANDIR)/man3/libannals.3
	install -m 644 daemon/annalsd.8 $(DESTDIR)$(MANDIR)/man8/annalsd.8
	install -d $(DESTDIR)$(WEBDIR)/vendor/vis-timeline \
	    $(DESTDIR)$(WEBDIR)/vendor/uplot
	install -m 644 $(WEB_FILES) $(DESTDIR)$(WEBDIR)/
	install -m 644 contrib/web/vendor/SHA256SUMS $(DESTDIR)$(WEBDIR)/vendor/
	install -m 644 contrib/web/vendor/vis-timeline/* \
	    $(DESTDIR)$(WEBDIR)/vendor/vis-timeline/
	install -m 644 contrib/web/vendor/uplot/* \
	    $(DESTDIR)$(WEBDIR)/vendor/uplot/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/annalsd $(DESTDIR)$(BINDIR)/annals \
	    $(DESTDIR)$(BINDIR)/annals-nats \
	    $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) \
	    $(DESTDIR)$(SYSUSERSDIR)/annals.conf \
	    $(DESTDIR)$(TMPFILESDIR)/annals.conf \
	    $(DESTDIR)$(LIBDIR)/libannals.a \
	    $(DESTDIR)$(LIBDIR)/libannals.so.$(VERSION) \
	    $(DESTDIR)$(LIBDIR)/libannals.so.$(SOMAJOR) \
	    $(DESTDIR)$(LIBDIR)/libannals.so $(DESTDIR)$(INCDIR)/annals.h \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/annals.pc \
	    $(DESTDIR)$(MANDIR)/man1/annals.1 \
	    $(DESTDIR)$(MANDIR)/man3/libannals.3 \
	    $(DESTDIR)$(MANDIR)/man8/annalsd.8 \
	    $(DESTDIR)$(BASHCOMPDIR)/annals
	rm -rf $(DESTDIR)$(WEBDIR)
	-rmdir $(DESTDIR)$(WEBDIR)/.. 2>/dev/null

test-san:
	$(MAKE) SAN=1 test

# Many kill -9 cycles; make test runs a few.
# The kill -9 cycles of tests/t-crash.c; the runner's limit is the 20
# minutes issue #15 allows the 1,000 of them.
test-crash: all
	ANNALS_CRASH_CYCLES=$${ANNALS_CRASH_CYCLES:-1000} $(B)/runner -v \
	    -t 1200 crash_kill9

check: test

clean:
	rm -rf build build-san build-fuzz annals annalsd

# make fuzz: each tests/fuzz/fuzz-NAME.c built with clang's libFuzzer into
# $(FUZZ_B)/fuzz-NAME and run FUZZ_SECONDS on a copy of its seed corpus;
# tests/fuzz/run.sh prints executions and coverage per harness and fails
# when one found a crash.  clang and its fuzzer runtime (Debian's
# libclang-rt-14-dev, which has no .pc file) are checked here only, so
# that make test does not need them.
FUZZ_SECONDS	?= 60
FUZZ_CC		?= clang
FUZZ_B		?= build-fuzz
FUZZ_NAMES	:= $(patsubst tests/fuzz/fuzz-%.c,%,\
		    $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_DEBS	:= clang libclang-rt-14-dev
FUZZ_CFLAGS	:= -O1 -g -fno-omit-frame-pointer -std=c11 -D_DEFAULT_SOURCE \
		    -fsanitize=fuzzer-no-link,address,undefined \
		    -fno-sanitize-recover=undefined -DFUZZ_LIBFUZZER \
		    -Wall -Wextra -Werror -MMD -MP
FUZZ_LIB_OBJ	:= $(patsubst %.c,$(FUZZ_B)/obj/%.o,$(PROTO_SRC) \
		    tests/fuzz/common.c)
# The import row parsers' harnesses also need the parsers (not the
# driver, client/import.c, its byte sources, nor what it sends to the
# dictionary) and the JSON code they use.
FUZZ_IMPORT	:= $(filter gdelt acled icews csv jsonl,$(FUZZ_NAMES))
FUZZ_IMPORT_OBJ	:= $(patsubst %.c,$(FUZZ_B)/obj/%.o,tests/fuzz/import.c \
		    $(filter-out client/import-src.c client/import-names.c,\
		    $(filter client/import-%.c,$(CLI_SRC))) client/json.c)

$(FUZZ_B)/.fuzz-deps: $(B)/.deps tests/deps.sh
	@sh tests/deps.sh fuzz-deps "make fuzz needs clang's libFuzzer" \
	    $(foreach d,$(FUZZ_DEBS),fuzzer:$(FUZZ_CC):$(d))
	@mkdir -p $(FUZZ_B) && touch $@

$(FUZZ_B)/obj/%.o: %.c | $(FUZZ_B)/.fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

# Keep the objects make would otherwise delete as intermediate.
.SECONDARY:

$(FUZZ_B)/fuzz-%: $(FUZZ_B)/obj/tests/fuzz/fuzz-%.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS)

$(addprefix $(FUZZ_B)/fuzz-,$(FUZZ_IMPORT)): $(FUZZ_IMPORT_OBJ)

# The harness of records stored by position needs store-pos.c and the
# msgpack walks of store-attrs.c, which bring its log and x*alloc calls;
# its LMDB calls, never made, link from PKG_LIBS.  The runner has them
# all in daemon.a.
FUZZ_STORE_OBJ	:= $(patsubst %.c,$(FUZZ_B)/obj/%.o,daemon/store-pos.c \
		    daemon/store-attrs.c daemon/log.c daemon/xmalloc.c)
$(FUZZ_B)/fuzz-storepos: $(FUZZ_STORE_OBJ)

fuzz: $(addprefix $(FUZZ_B)/fuzz-,$(FUZZ_NAMES))
	sh tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_SECONDS) $(FUZZ_NAMES)

# make soak: a real annalsd and 8 client processes for SOAK_SECONDS; fails
# on any error or when the daemon's memory keeps growing (tests/soak/).
SOAK_SECONDS	?= 600

$(B)/soak: $(B)/tests/soak/soak.o $(B)/tests/harness.o $(LIB_OBJ) \
    $(PROTO_LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

soak: all $(B)/soak
	$(B)/soak -t $(SOAK_SECONDS) $(B)/annalsd

# make bench: annalsd (built with the release flags above) and a libevent
# echo floor on BENCH_N generated records, plus the GDELT samples
# replicated (tests/bench/); make bench-peers: the same run against Redis
# and SQLite too.  Their Debian packages are checked by the bench-deps
# step only, so that make test does not need them.  Neither is part of
# make test; both print a table, RATIO lines and the path of a TSV file.
BENCH_N		?= 1000000
BENCH_CHECKS	:= cmd:redis-server:redis-server pc:hiredis:libhiredis-dev \
		    pc:sqlite3:libsqlite3-dev
BENCH_OBJ	:= $(call obj,tests/bench/bench.c tests/bench/gen.c \
		    tests/bench/b-annals.c tests/bench/b-echo.c)
BENCH_PEER_OBJ	:= $(call obj,tests/bench/peers.c tests/bench/b-redis.c \
		    tests/bench/b-sqlite.c)

$(B)/.bench-deps: tests/deps.sh | $(B)/.deps
	@sh tests/deps.sh bench-deps "make bench-peers needs Redis and SQLite" \
	    $(BENCH_CHECKS)
	@touch $@

$(BENCH_PEER_OBJ): | $(B)/.bench-deps

$(B)/bench: $(BENCH_OBJ) $(B)/tests/bench/nopeers.o $(LIB_OBJ) $(PROTO_LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/bench-peers: $(BENCH_OBJ) $(BENCH_PEER_OBJ) $(LIB_OBJ) $(PROTO_LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) \
	    $$(pkg-config --libs hiredis sqlite3)

$(B)/bench-echo: $(B)/tests/bench/echo.o
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench-check:
	@if [ "$(SAN)" = 1 ]; then \
		echo "make bench measures release builds; drop SAN=1" >&2; \
		exit 1; \
	fi

bench: bench-check $(B)/annalsd $(B)/bench $(B)/bench-echo $(B)/bench-text \
    $(B)/bench-decode
	BENCH_N=$(BENCH_N) $(B)/bench
	BENCH_N=$(BENCH_N) $(B)/bench-text
	$(B)/bench-decode

# The client's CPU per reply page, decoding a page held in a socket.
$(B)/bench-decode: $(call obj,tests/bench/decode.c tests/bench/gen.c) \
    $(LIB_OBJ) $(PROTO_LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The word index's figures (issue #20), on the store without a daemon.
$(B)/bench-text: $(B)/tests/bench/text.o $(B)/daemon.a $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(ICU_LIBS) $(NATS_LIBS)

# make bench-replica: replication through NATS JetStream, a primary,
# annals-nats publish and a replica on this machine (tests/bench/replica.c;
# contrib/nats/README.md).  Needs libnats and nats-server (the deps step).
$(B)/bench-replica: $(B)/tests/bench/replica.o $(B)/tests/nats.o \
    $(B)/tests/harness.o $(LIB_OBJ) $(PROTO_LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench-replica: bench-check $(B)/annalsd $(B)/annals-nats $(B)/annals \
    $(B)/bench-replica
	$(B)/bench-replica

bench-peers: bench-check $(B)/annalsd $(B)/bench-peers $(B)/bench-echo
	BENCH_N=$(BENCH_N) $(B)/bench-peers --peers

# Every bench driver built and none run: CI's check that a change to the
# code they share has not broken them (the peers' need bench-deps).
BENCH_PROGS	:= $(B)/bench $(B)/bench-peers $(B)/bench-echo \
		    $(B)/bench-text $(B)/bench-replica $(B)/rate-c \
		    $(B)/bench-decode
bench-build: $(BENCH_PROGS)

# make bench-python: the Python client (contrib/python) next to
# libannals on the same daemon and records (tests/python/bench.py).
BENCH_PY_N	?= 200000

$(B)/rate-c: $(B)/tests/python/rate.o $(LIB_OBJ) $(PROTO_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench-python: bench-check $(B)/annalsd $(B)/rate-c
	BENCH_PY_N=$(BENCH_PY_N) ANNALS_BUILD=$(B) /usr/bin/python3 \
	    tests/python/bench.py

# The timeline page (contrib/web/, served by annalsd --http) in a real
# browser: Debian's chromium driven by puppeteer-core from the npm
# registry (tests/browser/package-lock.json).  Its deps step installs
# chromium, node and npm when missing, so that make test does not need
# them; the vendored libraries are checked against their recorded sums.
WEB_FILES	:= contrib/web/index.html contrib/web/app.js \
		    contrib/web/style.css
BROWSER_CHECKS	:= cmd:chromium:chromium cmd:node:nodejs cmd:npm:npm

$(B)/.browser-deps: tests/deps.sh | $(B)/.deps
	@sh tests/deps.sh browser-deps \
	    "make test-browser needs chromium, node and npm" $(BROWSER_CHECKS)
	cd tests/browser && npm ci --no-audit --no-fund --silent
	@touch $@

test-browser: $(PROGS) $(B)/.browser-deps
	cd contrib/web/vendor && sha256sum -c --quiet SHA256SUMS
	node tests/t-browser.mjs $(B)
	node tests/t-browser-auth.mjs $(B)

-include $(shell find $(B) $(FUZZ_B) -name '*.d' 2>/dev/null)
