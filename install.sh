#!/usr/bin/env bash
# Builds devenv in release mode and installs it into $PREFIX/bin
# (default ~/.local/bin). Safe to run again: it replaces the binary in place.
set -euo pipefail
cd "$(dirname "$0")"

PREFIX="${PREFIX:-$HOME/.local}"
BIN="$PREFIX/bin"

if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo not found; install Rust from https://rustup.rs and run ./install.sh again" >&2
    exit 1
fi

# cargo's own progress (a bar on a terminal, a line per crate otherwise):
# the first build takes minutes, and silence looks like a hang.
echo "building devenv (release; the first build takes a few minutes)..." >&2
cargo build --release --locked

mkdir -p "$BIN"
# Copy then rename, so a running devenv is never half-overwritten.
install -m 0755 "${CARGO_TARGET_DIR:-target}/release/devenv" "$BIN/.devenv.new"
mv -f "$BIN/.devenv.new" "$BIN/devenv"
echo "installed $("$BIN/devenv" --version) to $BIN/devenv" >&2

# A fresh ~/.local/bin is not on PATH until the next login (Debian's
# ~/.profile adds it only if it existed then): say the exact line, for the
# user's own shell, and how to run devenv until then.
case ":$PATH:" in
    *":$BIN:"*) ;;
    *)
        case "$(basename "${SHELL:-sh}")" in
            zsh) profile="~/.zshrc"; line="export PATH=\"$BIN:\$PATH\"" ;;
            fish) profile="~/.config/fish/config.fish"; line="fish_add_path $BIN" ;;
            bash) profile="~/.bashrc"; line="export PATH=\"$BIN:\$PATH\"" ;;
            *) profile="~/.profile"; line="export PATH=\"$BIN:\$PATH\"" ;;
        esac
        echo "note: $BIN is not on your PATH. Add this line to $profile, then open a new shell:" >&2
        echo "    $line" >&2
        echo "  until then, run devenv as $BIN/devenv" >&2 ;;
esac

if command -v docker >/dev/null 2>&1 && docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
    echo "container engine: Docker $(docker version --format '{{.Server.Version}}') answers" >&2
elif [ -S /var/run/docker.sock ] || [ -S "$HOME/.docker/run/docker.sock" ] || [ -S "$HOME/.colima/default/docker.sock" ]; then
    echo "container engine: a Docker socket exists (devenv will connect to it)" >&2
else
    echo "note: no container engine answers; start Docker (Docker Desktop, colima start, or dockerd) before 'devenv up'" >&2
fi
