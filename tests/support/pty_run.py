#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and answers its prompts.

usage: pty_run.py [--expect TEXT --send KEYS]... [--timeout S] -- CMD [ARGS...]

Each --expect waits until TEXT has appeared in the output, then writes KEYS
(Python escapes allowed: \\r, \\n, \\x1b[B, ' ' ...). Everything the command
printed is copied to stdout; the exit status is the command's own.
"""
import os
import pty
import select
import sys
import time


def main():
    args = sys.argv[1:]
    steps, timeout = [], 30.0
    while args and args[0] != "--":
        flag = args.pop(0)
        if flag == "--expect":
            steps.append([args.pop(0), None])
        elif flag == "--send":
            steps[-1][1] = args.pop(0).encode().decode("unicode_escape")
        elif flag == "--timeout":
            timeout = float(args.pop(0))
        else:
            sys.exit(f"unknown flag {flag}")
    cmd = args[1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out = b""
    deadline = time.time() + timeout
    for expect, send in steps:
        while expect.encode() not in out:
            if time.time() > deadline:
                sys.stdout.write(out.decode(errors="replace"))
                sys.exit(f"\npty_run: timed out waiting for {expect!r}")
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
        if send:
            time.sleep(0.05)
            os.write(fd, send.encode())
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace"))
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
