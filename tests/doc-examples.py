#!/usr/bin/python3
"""Run the examples of README.md and the man pages as a reader would.

Usage: doc-examples.py BINDIR REPO FILE...

An example is a code block (indented four spaces in Markdown, between
.nf and .fi in a man page's EXAMPLES section) with lines that start with
"$ ".  Each such line is a command (a trailing backslash continues it on
the next line); the lines after it, up to the next command, are what the
command prints on a terminal, stdout and stderr together.

The examples of one file run in order in one shell, as a reader typing
them would: what one sets (export, a daemon started with &) the next one
sees.  The shell's directory stands in for the checkout after `make run`:
annalsd serves the demo data on ./var/annalsd.sock, HTTP on a free port,
and ./annals, ./annalsd, contrib/ and tests/ are there.  `make run`
itself and the other make commands are the test's own set-up, so they
are not run again.

What a page shows is compared line by line, trailing blanks aside:
- a line "..." stands for any number of lines;
- "..." inside a line stands for any text (ids, times, cursors);
- a last line "^C" means the command runs until interrupted: it gets
  SIGINT after two seconds and what it printed by then is compared;
- "127.0.0.1:8080" is the HTTP address of make run, which takes the next
  free port when 8080 is busy, so it is replaced by the test's own; any
  other loopback port of an example by a port that is free;
- a command ending in "&" is given a second to start, as a reader
  typing the next line would.
A command shown without output must exit 0.

A block without commands whose first line is a C comment naming a file,
"/* first.c: ... */", is written to that file first, so that the
commands can build it; pkg-config finds annals.pc of the build, as it
would after make install.
"""

import fcntl
import os
import pty
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time

COMMAND_TIMEOUT = 60
INTERRUPT_AFTER = 2
MARK = "\x1e"


def roff_text(line):
    """The text a man page line shows, for the escapes our pages use."""
    out = line
    for esc, text in (("\\-", "-"), ("\\(dq", '"'), ("\\(aq", "'"),
                      ("\\(em", "--"), ("\\(en", "-"), ("\\&", ""),
                      ("\\e", "\\"), ("\\ ", " ")):
        out = out.replace(esc, text)
    return out


def man_blocks(text):
    """The .nf/.fi blocks of the EXAMPLES section."""
    blocks, block, in_examples = [], None, False
    for line in text.split("\n"):
        if line.startswith(".SH"):
            in_examples = line.split(None, 1)[1:] == ["EXAMPLES"]
            continue
        if not in_examples:
            continue
        if line.startswith(".nf"):
            block = []
        elif line.startswith(".fi"):
            if block is not None:
                blocks.append(block)
            block = None
        elif block is not None:
            block.append(roff_text(line))
    return blocks


def markdown_blocks(text):
    """The code blocks indented by four spaces, outside fenced blocks."""
    blocks, block, prev_blank, fenced = [], None, True, False
    for line in text.split("\n"):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        if line.startswith("    ") and (block is not None or prev_blank):
            if block is None:
                block = []
            block.append(line[4:])
        elif line.strip() == "" and block is not None:
            block.append("")
        else:
            if block is not None:
                blocks.append(block)
            block = None
        prev_blank = line.strip() == ""
    if block is not None:
        blocks.append(block)
    return blocks


def examples(block):
    """(command, expected lines) for each "$ " line of a block."""
    out, i = [], 0
    while i < len(block):
        line = block[i]
        if not line.startswith("$ "):
            i += 1
            continue
        cmd = line[2:]
        while cmd.endswith("\\") and i + 1 < len(block):
            i += 1
            cmd = cmd + "\n" + block[i]
        i += 1
        expect = []
        while i < len(block) and not block[i].startswith("$ "):
            expect.append(block[i].rstrip())
            i += 1
        while expect and expect[-1] == "":
            expect.pop()
        out.append((cmd, expect))
    return out


def files(blocks):
    """{name: text} of the blocks that are files to write."""
    out = {}
    for block in blocks:
        m = re.match(r"/\* ([A-Za-z0-9_.-]+\.c): ", block[0]) if block else None
        if m and not any(line.startswith("$ ") for line in block):
            out[m.group(1)] = "\n".join(block).rstrip("\n") + "\n"
    return out


def pkg_config_dir(bindir, repo, home):
    """An annals.pc for the build directory, as make install writes it."""
    with open(os.path.join(repo, "proto/version.h")) as f:
        version = re.search(r'ANNALS_VERSION_STRING "([^"]+)"', f.read())
    with open(os.path.join(repo, "client/annals.pc.in")) as f:
        pc = f.read()
    # A sanitizer build's library needs programs built the same way.
    with open(os.path.join(bindir, "libannals.so"), "rb") as f:
        if b"libasan.so" in f.read():
            pc = re.sub(r"^(Libs|Cflags): (.*)$",
                        r"\1: \2 -fsanitize=address,undefined", pc,
                        flags=re.M)
    for key, value in (("@PREFIX@", home), ("@LIBDIR@", bindir),
                       ("@INCDIR@", os.path.join(repo, "client")),
                       ("@VERSION@", version.group(1))):
        pc = pc.replace(key, value)
    path = os.path.join(home, "pkgconfig")
    os.mkdir(path)
    with open(os.path.join(path, "annals.pc"), "w") as f:
        f.write(pc)
    return path


def screen_line(raw):
    """What a terminal shows of a line: \\r returns to its start and
    ESC [ K erases to its end, as import's progress line uses them."""
    shown, col = [], 0
    for part in re.split(r"(\r|\x1b\[K)", raw):
        if part == "\r":
            col = 0
        elif part == "\x1b[K":
            del shown[col:]
        else:
            shown[col:col + len(part)] = list(part)
            col += len(part)
    return "".join(shown)


def line_pattern(line):
    parts = [re.escape(p) for p in line.split("...")]
    return re.compile("^" + ".*".join(parts) + "$")


def matches(expect, got):
    """Whether the lines got fit the lines expected, "..." as above."""
    if not expect:
        return not got
    if expect[0] == "...":
        return any(matches(expect[1:], got[k:])
                   for k in range(len(got) + 1))
    return (bool(got) and line_pattern(expect[0]).match(got[0]) is not None
            and matches(expect[1:], got[1:]))


class Shell:
    """One bash whose commands write to a terminal 80 columns wide."""

    def __init__(self, cwd, env):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ,
                    struct.pack("HHHH", 24, 80, 0, 0))
        self.proc = subprocess.Popen(
            ["bash", "--norc", "--noprofile"], cwd=cwd, env=env,
            stdin=subprocess.PIPE, stdout=slave, stderr=slave,
            start_new_session=True)
        os.close(slave)
        self.pending = ""

    def run(self, cmd, interrupt):
        if interrupt:
            cmd = "timeout -s INT %d %s" % (INTERRUPT_AFTER, cmd)
        # The command's stdin is not the command stream.
        script = "{ %s\n} </dev/null\nprintf '%s%%d%s' $?\n" % (
            cmd, MARK, MARK)
        self.proc.stdin.write(script.encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + COMMAND_TIMEOUT
        pat = re.compile(MARK + "([0-9]+)" + MARK)
        while True:
            m = pat.search(self.pending)
            if m:
                out = self.pending[:m.start()]
                self.pending = self.pending[m.end():]
                return out.replace("\r\n", "\n"), int(m.group(1))
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                return self.pending.replace("\r\n", "\n"), None
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    data = b""
                self.pending += data.decode("utf-8", "replace")

    def close(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.proc.stdin.close()
        self.proc.wait()
        os.close(self.master)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_run(bindir, repo, home):
    """What `make run` does: annalsd on ./var with the demo data."""
    for name in ("contrib", "tests", "proto"):
        os.symlink(os.path.join(repo, name), os.path.join(home, name))
    for name in ("annals", "annalsd"):
        os.symlink(os.path.join(bindir, name), os.path.join(home, name))
    os.mkdir(os.path.join(home, "var"))
    sock = os.path.join(home, "var", "annalsd.sock")
    port = free_port()
    log = open(os.path.join(home, "annalsd.log"), "w")
    daemon = subprocess.Popen(
        [os.path.join(bindir, "annalsd"), "--data", "var/data",
         "--socket", sock, "--http", "127.0.0.1:%d" % port],
        cwd=home, stdout=log, stderr=log)
    annals = os.path.join(bindir, "annals")
    for _ in range(200):
        if subprocess.run([annals, "-s", sock, "ping"], cwd=home,
                          stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0:
            break
        if daemon.poll() is not None:
            sys.exit("annalsd did not start; see %s/annalsd.log" % home)
        time.sleep(0.05)
    with open(os.path.join(repo, "contrib/demo/events.jsonl")) as f:
        subprocess.run([annals, "-s", sock, "add", "-"], cwd=home,
                       stdin=f, stdout=subprocess.DEVNULL, check=True)
    return daemon, port


def is_setup(cmd):
    return re.match(r"(sudo )?make( |$)", cmd) is not None


def run_file(bindir, repo, path):
    with open(path) as f:
        text = f.read()
    blocks = (markdown_blocks(text) if path.endswith(".md")
              else man_blocks(text))
    todo = [ex for b in blocks for ex in examples(b)]
    if not todo:
        print("%s: no examples" % path)
        return 1
    home = tempfile.mkdtemp(prefix="annals-doc.")
    for name, body in files(blocks).items():
        with open(os.path.join(home, name), "w") as f:
            f.write(body)
    daemon, port = make_run(bindir, repo, home)
    env = dict(os.environ)
    env.pop("ANNALS_SOCKET", None)
    env.update(PATH=bindir + ":" + env.get("PATH", "/usr/bin:/bin"),
               HOME=home, LC_ALL="C.UTF-8", TERM="dumb",
               PKG_CONFIG_PATH=pkg_config_dir(bindir, repo, home),
               LD_LIBRARY_PATH=bindir)
    shell = Shell(home, env)
    failed = ran = 0
    ports = {"8080": port}
    try:
        for cmd, expect in todo:
            if is_setup(cmd):
                continue
            interrupt = bool(expect) and expect[-1] == "^C"
            if interrupt:
                expect = expect[:-1]
            real = re.sub(r"127\.0\.0\.1:([0-9]+)",
                          lambda m: "127.0.0.1:%d" % ports.setdefault(
                              m.group(1), free_port()), cmd)
            out, status = shell.run(real, interrupt)
            if cmd.rstrip().endswith("&"):
                time.sleep(1)
            got = [screen_line(line).rstrip() for line in out.split("\n")]
            while got and got[-1] == "":
                got.pop()
            ran += 1
            if status is None:
                why = "did not finish in %d s" % COMMAND_TIMEOUT
            elif expect and not matches(expect, got):
                why = "printed something else"
            elif not expect and status != 0:
                why = "exited %d" % status
            else:
                continue
            failed += 1
            print("%s: $ %s\n  %s; shown:" % (path, cmd, why))
            for line in expect:
                print("    | " + line)
            print("  printed:")
            for line in got:
                print("    | " + line)
            if status is None:
                break
    finally:
        shell.close()
        daemon.terminate()
        daemon.wait()
    print("%s: %d examples, %d differ" % (os.path.basename(path), ran,
                                          failed))
    if failed == 0:
        shutil.rmtree(home, ignore_errors=True)
    return 1 if failed else 0


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: doc-examples.py BINDIR REPO FILE...")
    bindir, repo = (os.path.abspath(a) for a in sys.argv[1:3])
    rc = 0
    for path in sys.argv[3:]:
        rc |= run_file(bindir, repo, os.path.join(repo, path))
    sys.exit(rc)


if __name__ == "__main__":
    main()
