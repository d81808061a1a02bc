"""Named crash points, for tests that must kill the bot at an exact moment.

``point("name")`` does nothing unless the environment variable
``BOT_CRASH_AT`` names that point, in which case the process kills itself
with SIGKILL, the way a power cut or the OOM killer would: no cleanup, no
``finally`` blocks, no flush. Production never sets the variable.
"""

from __future__ import annotations

import os
import signal

# The points that exist, so a test cannot name one that is never reached.
POINTS = frozenset(
    {
        "send:after-pending-copy",  # a pending copy is in Sent; SMTP not yet tried
        "send:after-smtp",  # the server accepted the reply; its Sent copy still pending
        "send:after-sent-copy",  # accepted and its Sent copy confirmed; the database not yet committed
        "ingest:before-commit",  # a batch ingested; not yet committed
        "ingest:after-commit",  # a batch committed; the mailbox not yet flagged or moved
    }
)


def point(name: str) -> None:
    """Crash here with SIGKILL if ``BOT_CRASH_AT`` is ``name``."""
    assert name in POINTS, name
    if os.environ.get("BOT_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
