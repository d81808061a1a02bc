#!/usr/bin/env bash
# Run every benchmark with its default size and keep the raw output in bench/results/.
# Not part of CI. Needs Dovecot (dovecot-imapd, dovecot-lmtpd) and root, like the tests;
# all traffic stays on 127.0.0.1. Takes about 15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
run() {
    local name=$1
    shift
    { echo "== $name: $* (load average before: $(cut -d" " -f1-3 /proc/loadavg))"; python "$@"; } 2>&1 |
        tee "bench/results/$name.txt"
}
run machine -c 'import json, sys; sys.path.insert(0, "bench"); import common; print(json.dumps(common.machine(), indent=2))'
run triage bench/bench_triage.py
# The same on the benchmarks' own inquiries (1-4 KB, longer than most of the test corpus).
corpus=$(mktemp -d)
python bench/common.py "$corpus" 300
run triage_generated bench/bench_triage.py "$corpus"
rm -rf "$corpus"
run stages bench/bench_stages.py
run arrival bench/bench_arrival.py
run backlog bench/bench_backlog.py
# The same backlog with the fetching process alone (ingest.processes: 1).
run backlog_one bench/bench_backlog.py --processes 1 --compare 0 --name backlog_one
# The profile is taken on a smaller drain of its own: sampling slows the run it watches.
run backlog_profile bench/bench_backlog.py --count 2000 --compare 0 --name backlog_profile \
    --profile bench/results/backlog_profile_tree.txt
run growth bench/bench_growth.py
run webapp bench/bench_webapp.py
