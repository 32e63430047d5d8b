#!/usr/bin/env bash
# The store tests (test/log/store-conformance.test.ts, test/store/*) run a throwaway PostgreSQL
# cluster from Debian's packages (initdb and pg_ctl in /usr/lib/postgresql/<major>/bin), started
# in a temporary directory by test/helpers/pg-cluster.ts. Runs before `npm test` (pretest) and so in
# .ci/run: on a fresh Debian machine, as root, it installs `postgresql` (no service is started: the
# tests start their own cluster and stop it); when it is there it says nothing; anywhere else it says
# what is missing and leaves the tests to fail with the same advice. PUSHQ_TEST_PG_URL (a database
# the tests may create databases in) replaces the throwaway cluster.
set -euo pipefail
[ -n "${PUSHQ_TEST_PG_URL:-}" ] && exit 0
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "pushq: installing Debian's postgresql for the store tests (apt-get)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d 101: the package must not start a system-wide server; the tests start their own.
  # (An existing policy-rc.d is left as it is.)
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  exit 0
fi
echo "pushq: PostgreSQL is missing: the store tests will fail. Install it (Debian: apt-get install postgresql) or set PUSHQ_TEST_PG_URL." >&2
