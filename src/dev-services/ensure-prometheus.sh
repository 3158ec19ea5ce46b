#!/usr/bin/env bash
# Makes sure Prometheus (prometheus, promtool) and the Redis exporter (prometheus_redis_exporter) are installed,
# from Debian's packages: `apt-get update` once, then `apt-get install -y`. Does nothing when they are already on
# PATH (a few milliseconds), so CI and the real-Prometheus test call it every time.
# Used by .ci/run and by libs/redis/test/metrics/prometheus-dashboard.e2e-spec.ts (which fails with this script's
# output when it cannot install them). Needs root (or sudo) and the Debian mirror; nothing else from the network.
set -euo pipefail

# Test files run in parallel: the second caller waits for the first's install instead of racing it for apt's lock.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/ensure-prometheus.lock"
  flock 9
fi

missing=()
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v prometheus-redis-exporter >/dev/null 2>&1 || missing+=(prometheus-redis-exporter)
if [ "${#missing[@]}" -eq 0 ]; then
  echo "prometheus $(prometheus --version 2>&1 | head -n 1 | awk '{print $3}'), promtool and prometheus-redis-exporter are installed."
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Not installed: ${missing[*]}. apt-get is not available here: install Prometheus 2.x (prometheus, promtool) and" \
    "prometheus-redis-exporter and put them on PATH." >&2
  exit 1
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "Not installed: ${missing[*]}. Installing them needs root: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

started=$(date +%s)
echo "Installing ${missing[*]} from Debian's packages (apt-get update, then apt-get install -y)..."
# The packages' maintainer scripts try to start system services: not here (no init system in CI containers, and the
# tests start their own Prometheus on free ports). policy-rc.d answering 101 is Debian's way to say so.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  "${as_root[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" -eq 1 ]; then "${as_root[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for binary in prometheus promtool prometheus-redis-exporter; do
  if ! command -v "$binary" >/dev/null 2>&1; then
    echo "apt-get installed ${missing[*]}, but $binary is still not on PATH." >&2
    exit 1
  fi
done
echo "Installed ${missing[*]} in $(($(date +%s) - started)) s."
