#!/usr/bin/env bash
# The README's run command (make run): starts Postgres and ClickHouse (installing them when
# missing), migrates, creates a demo account with users, queues the bundled sample import and
# runs the daemon in the foreground, which imports the sample, sends its analytics to
# ClickHouse and keeps serving until Ctrl-C.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
deploy/services.sh up
while IFS= read -r setting; do export "$setting"; done < <(deploy/services.sh env)
bin=bin/leadpipe
$bin migrate
$bin account create demo --prospect-limit 1000 --exists-ok
for u in "grace grace@leadpipe.example Grace Hopper" "alan alan@leadpipe.example Alan Turing"; do
  set -- $u
  $bin user add --account demo --username "$1" --email "$2" --full-name "$3 $4" 2>/dev/null || true
done
$bin import deploy/sample/prospects.csv --account demo --options deploy/sample/options.json --queue
echo "run: the daemon imports the sample now; metrics at http://${LEADPIPE_HTTP_ADDR:-127.0.0.1:8080}/metrics; Ctrl-C stops it" >&2
exec $bin serve
