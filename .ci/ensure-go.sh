#!/usr/bin/env bash
# The App Engine end-to-end test (test/e2e/appengine-go.test.ts) builds a Go program with Google's
# Go library for the bundled services, and the gRPC one (test/e2e/serve-grpc-go.test.ts) a program
# with Google's Cloud Tasks client, as test/docs/serve-doc.test.ts builds docs/serve.md's Go client
# with a token, from Debian's packages: golang-go, golang-google-appengine-dev
# and golang-google-cloud-dev (GOPATH /usr/share/gocode). Runs before `npm test` (pretest) and so
# in .ci/run: on a fresh Debian machine, as root, it installs them; when they are there it says
# nothing; anywhere else it says what is missing and leaves the test to fail with the same advice
# (the test is required, never skipped).
set -euo pipefail
library=/usr/share/gocode/src/google.golang.org/appengine/taskqueue/taskqueue.go
client=/usr/share/gocode/src/cloud.google.com/go/cloudtasks/apiv2/cloud_tasks_client.go
command -v go >/dev/null 2>&1 && [ -f "$library" ] && [ -f "$client" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "pushq: installing Debian's golang-go, golang-google-appengine-dev and golang-google-cloud-dev for the Go tests (apt-get)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends golang-go golang-google-appengine-dev golang-google-cloud-dev >/dev/null
  exit 0
fi
echo "pushq: Go or Google's Go libraries are missing: the Go tests will fail. Install them (Debian: apt-get install golang-go golang-google-appengine-dev golang-google-cloud-dev)." >&2
