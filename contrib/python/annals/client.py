"""A connection to annalsd over its socket protocol (proto/PROTOCOL.md)."""

from __future__ import annotations

import errno
import os
import socket
import struct
import sys
import time
from collections import deque
from typing import (TYPE_CHECKING, Any, Deque, Dict, Iterable, Iterator,
                    List, Optional, Sequence, Tuple)

import msgpack

from .errors import (ConnectionLost, DaemonNotRunning, Error, InvalidError,
                     ProtocolError, from_wire)
from .query import params

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from typing import Unpack
    else:
        from typing_extensions import Unpack
    from .query import Filters

__all__ = ["Client", "connect", "Event", "DEFAULT_SOCKET", "PROTOCOL"]

#: What an event is here: the protocol's record as a dict.
Event = Dict[str, Any]

DEFAULT_SOCKET = "/run/annals/annalsd.sock"
#: The protocol version this client speaks.
PROTOCOL = 1
_MAX_FRAME = 16 * 1024 * 1024
_PREFIX = struct.Struct(">BI")
_MAX_IDS = 10000
#: What connect() fails with when no daemon is at the address: the path
#: is missing (or a directory of it), or nothing listens there.
_NOT_RUNNING = (errno.ENOENT, errno.ENOTDIR, errno.ECONNREFUSED)


def _address(address: Optional[str]) -> Tuple[int, Any]:
    """(family, sockaddr) of a socket path or HOST:PORT, as libannals
    reads it: with a slash or without a colon it is a path."""
    if address is None:
        address = os.environ.get("ANNALS_SOCKET") or DEFAULT_SOCKET
    if "/" in address or ":" not in address:
        return socket.AF_UNIX, address
    host, _, port = address.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return socket.AF_UNSPEC, (host or "localhost", int(port))
    except ValueError:
        raise InvalidError(f"{address}: not a socket path or HOST:PORT") \
            from None


def _token(token: Optional[str], token_file: Optional[str]) -> Optional[str]:
    if token is not None:
        return token
    if token_file is not None:
        with open(token_file, encoding="utf-8") as f:
            return f.read().strip()
    return os.environ.get("ANNALS_TOKEN") or None


class Client:
    """One connection to annalsd.

    ``address`` is a Unix socket path, ``HOST:PORT``, or None for
    ``$ANNALS_SOCKET`` (else /run/annals/annalsd.sock).  The token comes
    from ``token``, else the first line of ``token_file``, else
    ``$ANNALS_TOKEN``.  ``timeout`` (seconds, None for none) bounds each
    wait for the daemon; a timeout breaks the connection
    (:class:`ConnectionLost`).

    Every method raises the :mod:`annals` exception named after the
    daemon's error code, carrying its message.  A client is not
    thread-safe; use one per thread.
    """

    def __init__(self, address: Optional[str] = None, *,
                 token: Optional[str] = None,
                 token_file: Optional[str] = None,
                 timeout: Optional[float] = 30.0,
                 name: str = "annals-python") -> None:
        self.address = address
        self.timeout = timeout
        self.name = name
        self._token = _token(token, token_file)
        self._sock: Optional[socket.socket] = None
        self._rbuf = bytearray()
        self._msgid = 0
        self._pending: Deque[int] = deque()
        self._notes: Deque[Dict[str, Any]] = deque()
        self._packer = msgpack.Packer(use_bin_type=True)
        self._subscribed = False
        #: The result of the last hello: max_frame, max_batch, scope, ...
        self.server: Dict[str, Any] = {}
        self.reconnect()

    # -- the connection ---------------------------------------------------

    def reconnect(self) -> None:
        """Close the connection if open, connect again and send hello
        (with the token, if any).  Requests without an answer are lost;
        a subscription is not renewed (subscribe() does that itself)."""
        self.close()
        family, addr = _address(self.address)
        try:
            if family == socket.AF_UNIX:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.settimeout(self.timeout)
                    sock.connect(addr)
                except OSError:
                    sock.close()
                    raise
            else:
                sock = socket.create_connection(addr, self.timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as e:
            # A missing path or a refused connect means no daemon there,
            # which the bare strerror ("No such file or directory") left
            # the user to work out; EACCES and timeouts stay generic, as
            # a daemon may well be running behind them.
            if e.errno in _NOT_RUNNING:
                raise DaemonNotRunning(self._where(), e.errno,
                                       e.strerror or str(e)) from e
            raise ConnectionLost(f"{addr}: {e.strerror or e}") from e
        self._sock = sock
        self.hello(client=self.name, token=self._token)

    def _where(self) -> str:
        """The address as given, or as $ANNALS_SOCKET or the default
        supplied it."""
        return (self.address or os.environ.get("ANNALS_SOCKET") or
                DEFAULT_SOCKET)

    def close(self) -> None:
        """Close the connection; reconnect() opens it again."""
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
        self._rbuf.clear()
        self._pending.clear()
        self._notes.clear()
        self._subscribed = False

    @property
    def connected(self) -> bool:
        """Whether the connection is open (as far as the client knows)."""
        return self._sock is not None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _broken(self, why: str, cls: type = ConnectionLost) -> Error:
        self.close()
        return cls(why)

    def send(self, method: str, args: Optional[Dict[str, Any]] = None) -> int:
        """Send one request without waiting; returns its msgid.  Answers
        come back in order through :meth:`receive`."""
        if self._sock is None:
            raise ConnectionLost("not connected: call reconnect()")
        self._msgid = self._msgid % 0xFFFFFFFF + 1
        body = self._packer.pack(
            [0, self._msgid, method, [args] if args else []])
        try:
            self._sock.sendall(_PREFIX.pack(0xCE, len(body)) + body)
        except OSError as e:
            raise self._last_words() or self._broken(f"send: {e}") from e
        self._pending.append(self._msgid)
        return self._msgid

    def _last_words(self) -> Optional[Error]:
        """The error the daemon sent for the whole connection before it
        closed it while we were sending (a frame over its limit)."""
        try:
            assert self._sock is not None
            self._sock.settimeout(1.0)
            while True:
                exc = self._connection_error(self._frame())
                if exc is not None:
                    return exc
        except Error:
            return None

    def _connection_error(self, msg: Any) -> Optional[Error]:
        """The error of a response with msgid 0, by which the daemon gives
        up on the connection (it closes it right after), or None."""
        if isinstance(msg, list) and len(msg) == 4 and msg[0] == 1 and \
                msg[1] == 0 and msg[2] is not None:
            exc = from_wire(msg[2])
            exc.fatal = True
            self.close()
            return exc
        return None

    def _recv(self, size: int) -> None:
        """Read once into the buffer; a timeout is the caller's."""
        assert self._sock is not None
        try:
            chunk = self._sock.recv(size)
        except socket.timeout:
            raise
        except OSError as e:
            raise self._broken(f"receive: {e}") from e
        if not chunk:
            raise self._broken("the daemon closed the connection")
        self._rbuf += chunk

    def _fill(self, need: int) -> None:
        while len(self._rbuf) < need:
            try:
                self._recv(max(need - len(self._rbuf), 262144))
            except socket.timeout:
                raise self._broken(
                    f"no answer from the daemon in {self.timeout} s") \
                    from None

    def _frame(self) -> Any:
        """The next message from the daemon."""
        self._fill(5)
        kind, n = _PREFIX.unpack_from(self._rbuf)
        if kind != 0xCE or n == 0 or n > _MAX_FRAME:
            raise self._broken(f"bad frame prefix {bytes(self._rbuf[:5])!r}",
                               ProtocolError)
        self._fill(5 + n)
        body = bytes(self._rbuf[5:5 + n])
        del self._rbuf[:5 + n]
        try:
            return msgpack.unpackb(body, raw=False)
        except (ValueError, msgpack.UnpackException) as e:
            raise self._broken(f"bad frame body: {e}", ProtocolError) \
                from None

    def receive(self) -> Any:
        """The result of the oldest request sent and not yet answered;
        notifications that come first are kept for subscribe()."""
        if not self._pending:
            raise ProtocolError("no request is waiting for an answer")
        while True:
            msg = self._frame()
            if not isinstance(msg, list) or not msg:
                raise self._broken(f"not a message: {msg!r}", ProtocolError)
            if msg[0] == 2 and len(msg) == 3:
                if msg[1] == "changes" and isinstance(msg[2], list) and \
                        msg[2] and isinstance(msg[2][0], dict):
                    self._notes.append(msg[2][0])
                continue
            if msg[0] != 1 or len(msg) != 4:
                raise self._broken(f"not a response: {msg!r}", ProtocolError)
            exc = self._connection_error(msg)
            if exc is not None:
                raise exc
            _, msgid, error, result = msg
            want = self._pending.popleft()
            if msgid != want:
                raise self._broken(f"answer to {msgid} while waiting for "
                                   f"{want}", ProtocolError)
            if error is not None:
                raise from_wire(error)
            return result

    def call(self, method: str, **args: Any) -> Any:
        """Send any request and wait for its result: the escape hatch for
        methods and parameters this client does not name.  Parameters
        that are None are left out."""
        self.send(method, {k: v for k, v in args.items() if v is not None})
        return self.receive()

    # -- methods ----------------------------------------------------------

    def hello(self, client: Optional[str] = None,
              token: Optional[str] = None) -> Dict[str, Any]:
        """Identify to the daemon (and authenticate with ``token``).
        Returns the daemon's answer; also kept in :attr:`server`."""
        if token is not None:
            self._token = token
        result = self.call("hello", client=client, token=token)
        if result.get("protocol") != PROTOCOL:
            raise self._broken(f"the daemon speaks protocol "
                               f"{result.get('protocol')}, this client "
                               f"{PROTOCOL}", ProtocolError)
        self.server = result
        return result

    def ping(self) -> str:
        """``"pong"``, from the daemon."""
        return self.call("ping")

    def put(self, records: Sequence[Event], *,
            check_rev: bool = False) -> List[Dict[str, Any]]:
        """Add or replace a batch of events atomically (at most
        ``max_batch``); one ``{"id", "rev", "status"}`` per record.

        With ``check_rev`` each record's ``rev`` is the rev its stored
        event must still have (0 or none, by source and key: it must not
        exist yet); otherwise nothing is written and :class:`Conflict` is
        raised."""
        if check_rev:
            return self.call("put", records=list(records),
                             check_rev=True)["results"]
        return self.call("put", records=list(records))["results"]

    def put_bulk(self, records: Iterable[Event], *,
                 batch: Optional[int] = None, window: int = 8,
                 skip_invalid: bool = False) -> List[Dict[str, Any]]:
        """Put any number of events in batches of ``batch`` records (the
        daemon's ``max_batch`` by default), with up to ``window`` batches
        in flight, and return one result per record in input order.

        A batch is atomic: one bad record refuses its whole batch.  With
        ``skip_invalid`` such a batch is sent again without the record the
        daemon named, whose result becomes ``{"status": "invalid",
        "error": message}``; otherwise the first refusal raises
        :class:`InvalidError` once the batches in flight are answered
        (those before it and after it in flight are written).
        """
        size = batch or int(self.server.get("max_batch", 1000))
        results: List[Optional[Dict[str, Any]]] = []
        queue: Deque[List[int]] = deque()   # indexes of waiting batches
        flight: Deque[List[int]] = deque()
        recs: List[Event] = []
        first_error: Optional[Error] = None
        it = iter(records)
        done = False

        def fill() -> None:
            nonlocal done
            while not done and len(queue) + len(flight) < window:
                chunk = []
                for rec in it:
                    chunk.append(len(recs))
                    recs.append(rec)
                    results.append(None)
                    if len(chunk) == size:
                        break
                else:
                    done = True
                if chunk:
                    queue.append(chunk)

        fill()
        while queue or flight:
            while queue and len(flight) < window:
                idx = queue.popleft()
                self.send("put", {"records": [recs[i] for i in idx]})
                flight.append(idx)
            idx = flight.popleft()
            try:
                out = self.receive()["results"]
            except InvalidError as e:
                bad = _record_index(e.message, len(idx))
                if not skip_invalid or bad is None:
                    first_error = first_error or e
                else:
                    results[idx[bad]] = {"status": "invalid",
                                         "error": e.message}
                    rest = idx[:bad] + idx[bad + 1:]
                    if rest:
                        queue.appendleft(rest)
                continue
            for i, r in zip(idx, out):
                results[i] = r
            if first_error is None:
                fill()
        if first_error is not None:
            raise first_error
        return results  # type: ignore[return-value]

    def get(self, ids: Iterable[int], *,
            fields: Optional[List[str]] = None) -> List[Optional[Event]]:
        """The events with these ids, None where there is none; with
        ``fields``, only those keys of each (``id`` always)."""
        ids = list(ids)
        out: List[Optional[Event]] = []
        for i in range(0, len(ids), _MAX_IDS):
            out += self.call("get", ids=ids[i:i + _MAX_IDS],
                             fields=fields)["events"]
        return out

    def get_by_key(self, source: str, key: str) -> Event:
        """The event with this source and key (:class:`NotFound` else)."""
        return self.call("get_by_key", source=source, key=key)["event"]

    def delete(self, ids: Iterable[int]) -> List[bool]:
        """Delete events; False where there was no such event."""
        ids = list(ids)
        out: List[bool] = []
        for i in range(0, len(ids), _MAX_IDS):
            out += self.call("delete", ids=ids[i:i + _MAX_IDS])["deleted"]
        return out

    def range_page(self, frm: Optional[str] = None, to: Optional[str] = None,
                   *, limit: Optional[int] = None,
                   cursor: Optional[bytes] = None,
                   **filters: "Unpack[Filters]") -> Dict[str, Any]:
        """One page of ``range``: ``{"events", "matches", "cursor"}``,
        and ``"via"`` (parallel to events) when ``actor`` names an
        alias."""
        return self.call("range", **params(frm, to, limit=limit,
                                           cursor=cursor, **filters))

    def _pages(self, method: str, args: Dict[str, Any]) -> Iterator[Event]:
        while True:
            page = self.call(method, **args)
            # A page of a query by an alias says how it found each event.
            via = page.get("via")
            for i, (event, match) in enumerate(zip(page["events"],
                                                   page["matches"])):
                event["match"] = match
                if via is not None:
                    event["via"] = via[i]
                yield event
            if page.get("cursor") is None:
                return
            args["cursor"] = page["cursor"]

    def range(self, frm: Optional[str] = None, to: Optional[str] = None, *,
              page: Optional[int] = None,
              **filters: "Unpack[Filters]") -> Iterator[Event]:
        """The events overlapping [frm, to] (None: open), in order of
        their strict start, fetched ``page`` at a time (the daemon's
        default, 1000, else) through the cursors.  Each event has
        ``"match"``: ``"certain"`` or ``"possible"``; when ``actor``
        names an alias of the actor dictionary, each also has ``"via"``:
        ``{"alias", "code"}``, the first of the alias's codes the event
        has.  The filters are those of :class:`annals.query.Filters`."""
        return self._pages("range", params(frm, to, limit=page, **filters))

    def actor(self, actor: str, frm: Optional[str] = None,
              to: Optional[str] = None, *, page: Optional[int] = None,
              **filters: "Unpack[Filters]") -> Iterator[Event]:
        """What ``actor`` did (a trailing ``*`` makes it a prefix; an
        alias finds its codes' events, each with its ``"via"``): as
        :meth:`range` with the actor required."""
        return self._pages("actor", params(frm, to, actor=actor,
                                           limit=page, **filters))

    def histogram(self, frm: str, to: str, *, by: Optional[str] = None,
                  count: Optional[str] = None,
                  **filters: "Unpack[Filters]") -> Dict[str, Any]:
        """Counts per ``by`` ("day", "week", "month", "year") bucket:
        ``{"buckets": [{"start", "time", "count"}], "total"}``."""
        return self.call("histogram", **params(frm, to, by=by, count=count,
                                               **filters))

    def top_actors(self, frm: Optional[str] = None,
                   to: Optional[str] = None, *, limit: Optional[int] = None,
                   prefix: Optional[str] = None,
                   **filters: "Unpack[Filters]") -> List[Dict[str, Any]]:
        """The actors with most events matching the query, most first:
        ``[{"name", "count"}]``."""
        return self.call("top_actors", **params(
            frm, to, limit=limit, prefix=prefix, **filters))["actors"]

    def co_actors(self, actor: str, frm: Optional[str] = None,
                  to: Optional[str] = None, *, limit: Optional[int] = None,
                  **filters: "Unpack[Filters]") -> Dict[str, Any]:
        """Who appears with ``actor`` most often: ``{"actor", "events",
        "actors": [{"name", "count"}]}``."""
        return self.call("co_actors", **params(frm, to, actor=actor,
                                               limit=limit, **filters))

    def actors(self, prefix: Optional[str] = None, *,
               page: Optional[int] = None) -> Iterator[Dict[str, Any]]:
        """Every actor name (with ``prefix``) and its event count, by
        name, fetched ``page`` at a time."""
        args = params(prefix=prefix, limit=page)
        while True:
            result = self.call("actors", **args)
            yield from result["actors"]
            if result.get("cursor") is None:
                return
            args["cursor"] = result["cursor"]

    # -- the actor dictionary (PROTOCOL.md, "The actor dictionary") ------

    def set_name(self, code: str, name: str, *,
                 only_new: bool = False, imported: bool = False) -> str:
        """Give ``code`` a name, which wins over CAMEO's; returns the
        status (``"added"``, ``"updated"``, ``"unchanged"``, or with
        ``only_new`` over an existing name ``"kept"``).  With
        ``imported`` the name is marked as one an importer took from a
        feed's rows: it is the label only where CAMEO names nothing, and
        ``actor_info`` gives it as ``"imported"``."""
        entry: Dict[str, Any] = {"kind": "name", "code": code, "name": name}
        if imported:
            entry["imported"] = True
        return self.call("dict_put", entries=[entry],
                         only_new=only_new or None)["results"][0]["status"]

    def set_alias(self, alias: str, codes: List[str],
                  during: Optional[str] = None) -> str:
        """Make ``alias`` stand for ``codes`` during the EDTF interval
        ``during`` (None: always); returns the status."""
        entry: Dict[str, Any] = {"kind": "alias", "alias": alias,
                                 "codes": list(codes)}
        if during is not None:
            entry["during"] = during
        return self.call("dict_put", entries=[entry])["results"][0]["status"]

    def actor_info(self, code: str) -> Dict[str, Any]:
        """How ``code`` is shown: ``{"code", "label", "label_from",
        "cameo", "imported", "aliases"}`` (``imported``: an importer's
        name, even where CAMEO's is the label, or None)."""
        return self.call("dict_get", code=code)

    def alias(self, alias: str) -> Dict[str, Any]:
        """The alias entry ``{"kind", "alias", "codes", "during"?}``;
        raises NotFound when there is none."""
        return self.call("dict_get", alias=alias)["entry"]

    def delete_name(self, code: str) -> bool:
        """Drop the user's name of ``code``; whether there was one."""
        return self.call("dict_delete", keys=[
            {"kind": "name", "code": code}])["deleted"][0]

    def delete_alias(self, alias: str) -> bool:
        """Drop an alias; whether there was one."""
        return self.call("dict_delete", keys=[
            {"kind": "alias", "alias": alias}])["deleted"][0]

    def dictionary(self, kind: str, prefix: Optional[str] = None, *,
                   code: Optional[str] = None) -> Iterator[Dict[str, Any]]:
        """Every entry of ``kind`` (``"name"`` or ``"alias"``) whose key
        starts with ``prefix``, by key; aliases only of ``code``."""
        args = params(kind=kind, prefix=prefix, code=code)
        while True:
            result = self.call("dict_list", **args)
            yield from result["entries"]
            if result.get("cursor") is None:
                return
            args["cursor"] = result["cursor"]

    def stats(self) -> Dict[str, Any]:
        """The daemon's counters: events, actors, db_bytes, last_seq..."""
        return self.call("stats")

    def changes(self, since: int = 0, *, limit: Optional[int] = None,
                fields: Optional[List[str]] = None) -> Dict[str, Any]:
        """One page of the change log after ``since``: ``{"changes",
        "next", "more", "last_seq"}``; ``fields`` as for :meth:`get`."""
        return self.call("changes", since=since, limit=limit, fields=fields)

    def iter_changes(self, since: int = 0) -> Iterator[Dict[str, Any]]:
        """Every change after ``since`` up to now, page after page."""
        while True:
            page = self.changes(since)
            yield from page["changes"]
            since = page["next"]
            if not page["more"]:
                return

    def subscribe(self, since: int = 0, *, reconnect: bool = True,
                  idle: Optional[float] = None, retry: float = 0.5,
                  retries: Optional[int] = None
                  ) -> Iterator[Dict[str, Any]]:
        """Yield every change after ``since`` (``{"seq", "op", "id",
        "event"?}``), then each change as it is committed.

        When the connection breaks and ``reconnect`` is true, the
        generator reconnects (every ``retry`` seconds, at most
        ``retries`` times in a row; None: without end) and resumes after
        the last change it yielded, so nothing is lost or repeated.  It
        ends when no change came for ``idle`` seconds (None: never), and
        unsubscribes when it ends or is closed.  :class:`Expired` means
        the log no longer reaches back to ``since``.
        """
        failures = 0
        while True:
            try:
                if not self._subscribed:
                    self.call("subscribe", since=since)
                    self._subscribed = True
                while True:
                    note = self._next_note(idle)
                    if note is None:
                        self.unsubscribe()
                        return
                    failures = 0
                    for change in note.get("changes", ()):
                        if change["seq"] > since:
                            since = change["seq"]
                            yield change
                    since = max(since, note.get("next", since))
            except GeneratorExit:
                if self._sock is not None:
                    try:
                        self.unsubscribe()
                    except Error:
                        self.close()
                raise
            except ConnectionLost:
                if not reconnect or (retries is not None and
                                     failures >= retries):
                    raise
            failures += 1
            time.sleep(retry if failures > 1 else 0)
            try:
                self.reconnect()
            except ConnectionLost:
                if retries is not None and failures >= retries:
                    raise

    def _next_note(self, idle: Optional[float]) -> Optional[Dict[str, Any]]:
        """The next notification, or None after ``idle`` quiet seconds."""
        while not self._notes:
            if self._sock is None:
                raise ConnectionLost("not connected: call reconnect()")
            self._sock.settimeout(idle)
            try:
                msg = self._frame_or_idle()
            finally:
                if self._sock is not None:
                    self._sock.settimeout(self.timeout)
            if msg is None:
                return None
        return self._notes.popleft()

    def _frame_or_idle(self) -> Optional[bool]:
        """Read one message into the notes; None when none came in time."""
        assert self._sock is not None
        if len(self._rbuf) < 5:
            try:
                self._recv(262144)
            except socket.timeout:
                return None
            if len(self._rbuf) < 5:
                return True
        self._sock.settimeout(self.timeout)
        msg = self._frame()
        if isinstance(msg, list) and len(msg) == 3 and msg[0] == 2:
            if msg[1] == "changes" and isinstance(msg[2], list) and msg[2]:
                self._notes.append(msg[2][0])
            return True
        exc = self._connection_error(msg)
        if exc is not None:
            raise exc
        raise self._broken(f"unexpected message {msg!r}", ProtocolError)

    def unsubscribe(self) -> None:
        """End the subscription; the notifications still due are
        dropped."""
        self.call("unsubscribe")
        self._subscribed = False
        self._notes.clear()

    def backup(self, path: str) -> Dict[str, Any]:
        """A compacted copy of the store into the directory ``path`` on
        the daemon's machine: ``{"path", "bytes"}``."""
        return self.call("backup", path=path)

    def compact(self) -> Dict[str, Any]:
        """Rewrite the live store in key order and put it in place of
        the old file; writes wait meanwhile: ``{"bytes_before",
        "bytes_after", "entries", "ms", "writes_held_ms"}``."""
        return self.call("compact")

    def check(self) -> Dict[str, Any]:
        """The integrity check of the store: ``{"ok", "problems", ...}``."""
        return self.call("check")


def _record_index(message: str, n: int) -> Optional[int]:
    """i of a message ``records[i]: ...``, when it names one of n."""
    if not message.startswith("records["):
        return None
    head = message[len("records["):].split("]", 1)[0]
    return int(head) if head.isdigit() and int(head) < n else None


def connect(address: Optional[str] = None, **kwargs: Any) -> Client:
    """A :class:`Client` connected to ``address`` (see there)."""
    return Client(address, **kwargs)

