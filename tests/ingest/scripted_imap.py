"""An IMAP server on loopback that answers with bytes a test wrote, for server behaviour Dovecot never shows.

Dovecot always sends ``UID`` before ``BODY[]``, never a NUL inside a literal,
and never a BAD or a BYE in the middle of a FETCH on demand. This server
answers the greeting, CAPABILITY, LOGIN, SELECT and LOGOUT like a plain IMAP4rev1
server and every other command with the next of the test's ``replies``, in
which ``<TAG>`` stands for the command's tag; a reply ending in ``<CLOSE>``
closes the connection after the bytes before it. Every connection replays the same replies
from the start, so two clients given the same commands see the same bytes.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator, Sequence

from imapclient import IMAPClient

CLOSE = b"<CLOSE>"
_FIXED = {
    b"CAPABILITY": b"* CAPABILITY IMAP4rev1 IDLE UIDPLUS MOVE\r\n<TAG> OK Capability completed.\r\n",
    b"LOGIN": b"<TAG> OK Logged in\r\n",
    b"SELECT": (
        b"* FLAGS (\\Seen \\Deleted)\r\n* 5 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 7] UIDs valid\r\n"
        b"* OK [UIDNEXT 40] Predicted next UID\r\n<TAG> OK [READ-WRITE] Select completed.\r\n"
    ),
    b"LOGOUT": b"* BYE Logging out\r\n<TAG> OK Logout completed.\r\n",
}


class ScriptedImap:
    """The server; :meth:`client` gives a logged-in IMAPClient with INBOX selected."""

    def __init__(self, replies: Sequence[bytes]) -> None:
        self.replies = list(replies)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        # The lines each connection sent, in order of connection, and whether it has ended.
        self.received: list[list[bytes]] = []
        self._ended: list[threading.Event] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def client(self) -> IMAPClient:
        client = IMAPClient("127.0.0.1", self.port, ssl=False, timeout=10)
        client.login("someone", "secret")
        client.select_folder("INBOX")
        return client

    def last_received(self, timeout: float = 10) -> list[bytes]:
        """The lines the last connection sent, once the server has read all of them (the client
        must have closed it): read earlier, a command sent just before could still be in flight."""
        assert self._ended[-1].wait(timeout), "the connection was not closed"
        return self.received[-1]

    def close(self) -> None:
        for sock in [self.listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.close()

    def __enter__(self) -> ScriptedImap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.listener.accept()
                self._sockets.append(conn)
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        replies = iter(self.replies)
        received: list[bytes] = []
        ended = threading.Event()
        self.received.append(received)
        self._ended.append(ended)
        try:
            self._replay(conn, replies, received)
        finally:
            ended.set()

    def _replay(self, conn: socket.socket, replies: Iterator[bytes], received: list[bytes]) -> None:
        with contextlib.suppress(OSError), conn, conn.makefile("rb") as lines:
            conn.sendall(b"* OK [CAPABILITY IMAP4rev1] Scripted ready.\r\n")
            while line := lines.readline():
                received.append(line)
                tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
                command = rest.split(b" ", 1)[0].upper()
                reply = _FIXED[command] if command in _FIXED else next(replies, b"<TAG> OK done\r\n")
                conn.sendall(reply.removesuffix(CLOSE).replace(b"<TAG>", tag))
                if reply.endswith(CLOSE):
                    conn.shutdown(socket.SHUT_RDWR)
                    return
