"""The one way every command line ends: Ctrl-C and a closed output pipe without a traceback.

    if __name__ == "__main__":
        raise SystemExit(run_command(main))

Ctrl-C prints one line and exits with status 130 (as a shell reports 128 + SIGINT); an output
pipe closed by the reader (`... | head -1`) ends the command quietly with status 141 (128 +
SIGPIPE), as other Unix tools end.
"""

from __future__ import annotations

import contextlib
import os
import sys

INTERRUPTED = 130  # Exit status after Ctrl-C.
PIPE_CLOSED = 141  # Exit status when the output pipe was closed.


def run_command(main, argv=None) -> int:
    """Runs main(argv) and returns its exit status, or 130 after Ctrl-C (with one line on
    stderr), or 141 quietly when stdout's reader went away."""
    try:
        return main(argv) if argv is not None else main()
    except KeyboardInterrupt:
        with contextlib.suppress(OSError):
            print("Interrupted (Ctrl-C); files written so far are complete.", file=sys.stderr,
                  flush=True)
        return INTERRUPTED
    except BrokenPipeError:
        silence_stdout()
        return PIPE_CLOSED


def silence_stdout() -> None:
    """Points stdout at /dev/null, so that Python's flush at exit does not fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
