#!/usr/bin/env bash
# The README's run command (make run): starts the services (installing them when missing),
# migrates, creates a demo account with users, drops the bundled sample (with its options file)
# into a watched directory and runs the daemon in the foreground, which imports the sample,
# publishes every row's outcome to its embedded Kafka broker, writes the import's analytics to
# ClickHouse and keeps serving until Ctrl-C. Before the daemon starts it prints the page's
# address and a new API token of the demo account to sign in with (a new one each run; the
# tokens of earlier runs keep working).
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
watch_dir=${LEADPIPE_DATA_DIR:-$repo/.data}/watch/demo
mkdir -p "$watch_dir"
export LEADPIPE_WATCH=${LEADPIPE_WATCH:-$watch_dir=demo}
# The options file goes first: the watcher takes the sample as soon as it is renamed in.
cp deploy/sample/options.json "$watch_dir/prospects.csv.options.json"
cp deploy/sample/prospects.csv "$watch_dir/.prospects.csv.part"
mv "$watch_dir/.prospects.csv.part" "$watch_dir/prospects.csv"
addr=${LEADPIPE_HTTP_ADDR:-127.0.0.1:8080}
case $addr in # the daemon listens on every interface: the page is on this machine's loopback
  :*) addr=127.0.0.1$addr ;;
  0.0.0.0:*) addr=127.0.0.1:${addr#0.0.0.0:} ;;
esac
token=$($bin token create --account demo)
echo "run: the daemon imports $watch_dir/prospects.csv now (then moves it to processed/);" \
  "drop more files there; metrics at http://$addr/metrics; Ctrl-C stops it" >&2
cat >&2 <<EOF

  Open http://$addr/ and sign in with this token of the account demo:

    $token

  (Each run prints a new token; those of earlier runs keep working.)

EOF
exec $bin serve
