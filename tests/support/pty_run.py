#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and answers its prompts.

usage: pty_run.py --steps JSON -- CMD [ARGS...]

JSON is a list of [text, [keys, ...]]: for each step, wait until `text` shows
on the screen (ANSI escapes ignored, only output since the previous step is
searched), then type each key, pausing before the first so the prompt has set
up the terminal (a password prompt turns echo off only once it is drawn).
Everything the command showed is copied to stdout; the exit status is the
command's own, and a death by signal N is 128 + N, as a shell reports it.
The deadline only keeps a broken prompt from hanging the test suite.
"""
import fcntl
import json
import os
import pty
import re
import select
import struct
import sys
import termios
import time

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


def main():
    args = sys.argv[1:]
    steps = json.loads(args[args.index("--steps") + 1])
    cmd = args[args.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
        os.execvp(cmd[0], cmd)
    out = b""

    def read(until=None, start=0, deadline=300):
        nonlocal out
        end = time.time() + deadline
        while time.time() < end:
            if until is not None and until.encode() in ANSI.sub(b"", out[start:]):
                return True
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return False
                if not data:
                    return False
                out += data
        return False

    start = 0
    for text, keys in steps:
        if not read(text, start):
            sys.stdout.write(out.decode("utf-8", "replace"))
            sys.stdout.write("\n[pty_run] never saw %r\n" % text)
            os.kill(pid, 9)
            sys.exit(97)
        start = len(out)
        time.sleep(0.3)
        for k in keys:
            os.write(fd, k.encode())
            time.sleep(0.1)
    read()
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode("utf-8", "replace"))
    code = os.waitstatus_to_exitcode(status)
    sys.exit(128 - code if code < 0 else code)


if __name__ == "__main__":
    main()
