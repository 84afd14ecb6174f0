#!/bin/sh
# wrk drives the HTTP figures. Install it from the distribution's packages when it is missing and
# this user may (root, or sudo without a password); otherwise say so and go on: the figures then
# use the bundled client, and BENCHMARKS.md names the client that measured.
command -v wrk >/dev/null 2>&1 && exit 0
command -v apt-get >/dev/null 2>&1 || { echo "wrk: no apt-get here; the bundled client will measure"; exit 0; }
if [ "$(id -u)" = 0 ]; then
    as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root="sudo -n"
else
    echo "wrk: not installed and no root to install it; the bundled client will measure"
    exit 0
fi
$as_root apt-get install -y --no-install-recommends wrk >/dev/null 2>&1 \
    || { $as_root apt-get update >/dev/null 2>&1 && $as_root apt-get install -y --no-install-recommends wrk >/dev/null 2>&1; } \
    || echo "wrk: apt-get could not install it; the bundled client will measure"
exit 0
