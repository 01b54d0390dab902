#!/usr/bin/env bash
# Reproduce the figures of docs/performance.md.
#
#   bash benches/measure.sh            # everything (about 15 minutes on 2 cores)
#   SKIP_BENCH=1 bash benches/measure.sh   # only the process-level figures (about 5 minutes)
#
# Builds the release binary, generates synthetic knowledge bases of 1,000, 10,000 and
# 50,000 entry ids (two files each: Bokmål and English) into a temporary folder, then
# measures, around the real process:
#   - start-up to the first answer with the bundled base (hyperfine when installed,
#     `apt-get install hyperfine`; otherwise ten timed runs),
#   - batch mode (`anbud ask --format json`) over 5,000 questions on a SQLite file on
#     disk, end to end, and that every abstention is in the queue afterwards,
#   - start-up building the index, a second start to its first answer (the index opened
#     from index.dir) and the same with the index in memory only, and the wall time and
#     peak RSS (`/usr/bin/time -v`) of `anbud ask --format json` over the 1,000
#     generated questions at 10k and 50k,
# and, unless SKIP_BENCH is set, runs `cargo bench --bench answering` (criterion medians,
# per-question p99, answers per second, index build, in-process start-up).
# Other work on the machine inflates every figure: run it when `uptime` shows a load
# well below the number of cores, and say what the load was when you quote numbers.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET_DIR="${CARGO_TARGET_DIR:-target}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "== machine"
echo "cores: $(nproc); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); memory: $(free -h | awk '/Mem:/ {print $2}')"
echo "load before: $(uptime | sed 's/.*load average: //')"

echo "== build"
cargo build --release --quiet
BIN="$WORK/anbud"
cp "$TARGET_DIR/release/anbud" "$BIN"

for n in 1000 10000 50000; do
    "$BIN" --knowledge knowledge kb generate --entries "$n" --seed 1 --questions 1000 --out "$WORK/kb$n"
done

declare -A ROWS
row() { ROWS["$1"]="$2"; printf '%-44s %s\n' "$1" "$2"; }

echo "== start-up with the bundled base (anbud ask, end to end, SQLite)"
Q='Hva er en dialogkonferanse?'
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 2 --runs 15 --export-json "$WORK/startup.json" \
        "$BIN --knowledge knowledge --database sqlite://$WORK/startup.sqlite ask '$Q'" >/dev/null
    median=$(python3 -c "import json,sys; r=json.load(open('$WORK/startup.json'))['results'][0]; print(f\"{r['median']*1000:.0f} ms (mean {r['mean']*1000:.0f} ± {r['stddev']*1000:.0f} ms)\")")
else
    times=()
    for _ in $(seq 10); do
        start=$(date +%s%N)
        "$BIN" --knowledge knowledge --database "sqlite://$WORK/startup.sqlite" ask "$Q" >/dev/null
        times+=($(( ($(date +%s%N) - start) / 1000000 )))
    done
    median="$(printf '%s\n' "${times[@]}" | sort -n | sed -n 5p) ms (of 10 runs)"
fi
row "start-up + one answer, bundled" "$median"

measure_kb() {
    local n=$1 label=$2
    local kb="$WORK/kb$n" db="sqlite://$WORK/kb$n.sqlite"
    # The index is kept in $WORK/index$n (index.dir): the first start builds it, the
    # others open it.
    export ANBUD__INDEX__DIR="$WORK/index$n"
    # Start-up alone, building the index: no question (stdin empty).
    /usr/bin/time -v "$BIN" --knowledge "$kb" --database "$db" ask --format json </dev/null >/dev/null 2>"$WORK/t0"
    local start_s rss0
    start_s=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/t0")
    rss0=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/t0")
    # A second start on the unchanged base, to its first answer (the index is opened).
    local second=()
    for _ in $(seq 5); do
        local t0_ns; t0_ns=$(date +%s%N)
        head -1 "$kb/questions.txt" | "$BIN" --knowledge "$kb" --database "$db" ask --format json >/dev/null
        second+=($(( ($(date +%s%N) - t0_ns) / 1000000 )))
    done
    row "second start + first answer, $label" "$(printf '%s\n' "${second[@]}" | sort -n | sed -n 3p) ms (median of 5; index opened from index.dir)"
    # The same without keeping the index (index.dir empty: built at every start).
    local t0_ns; t0_ns=$(date +%s%N)
    head -1 "$kb/questions.txt" | ANBUD__INDEX__DIR= "$BIN" --knowledge "$kb" --database "$db" ask --format json >/dev/null
    row "start + first answer, index in memory, $label" "$(( ($(date +%s%N) - t0_ns) / 1000000 )) ms (one run)"
    # Start-up plus 1,000 questions, one process, answers logged to SQLite.
    /usr/bin/time -v "$BIN" --knowledge "$kb" --database "$db" ask --format json <"$kb/questions.txt" >"$WORK/out$n.jsonl" 2>"$WORK/t1"
    local all_s rss1
    all_s=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/t1")
    rss1=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/t1")
    local correct
    correct=$(python3 - "$kb/questions.tsv" "$WORK/out$n.jsonl" <<'EOF'
import json, sys
rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[1], encoding='utf-8')][1:]
out = [json.loads(l) for l in open(sys.argv[2], encoding='utf-8')]
ok = sum((r[0] == '-' and not o['answered']) or (o['answered'] and o['id'] == r[0]) for r, o in zip(rows, out))
print(f"{ok}/{len(rows)}")
EOF
)
    row "start-up building the index, $label" "$start_s (peak RSS $((rss0 / 1024)) MB)"
    row "start-up + 1,000 questions, $label" "$all_s (peak RSS $((rss1 / 1024)) MB, index opened; expected id or abstention: $correct)"
    unset ANBUD__INDEX__DIR
}

echo "== batch mode on a SQLite file on disk (every answer counted, every abstention committed)"
# 5,000 lines: the questions of tests/quality/*.tsv, repeated. Each run starts from an
# empty database file in $WORK (on disk, not a tmpfs, unless TMPDIR says otherwise).
for f in tests/quality/*.tsv; do tail -n +2 "$f" | cut -f5; done > "$WORK/q.txt"
touch "$WORK/batch.txt"
while [ "$(wc -l < "$WORK/batch.txt")" -lt 5000 ]; do cat "$WORK/q.txt" >> "$WORK/batch.txt"; done
head -5000 "$WORK/batch.txt" > "$WORK/batch5000.txt"
batch_run() { rm -f "$WORK"/batch.sqlite*; "$BIN" --knowledge knowledge --database "sqlite://$WORK/batch.sqlite" ask --format json < "$WORK/batch5000.txt" > "$WORK/batch.jsonl"; }
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs 7 --export-json "$WORK/batch.json" \
        "rm -f $WORK/batch.sqlite*; $BIN --knowledge knowledge --database sqlite://$WORK/batch.sqlite ask --format json < $WORK/batch5000.txt > $WORK/batch.jsonl" >/dev/null
    batch_median=$(python3 -c "import json; r=json.load(open('$WORK/batch.json'))['results'][0]; print(f\"{r['median']:.2f} s = {r['median']/5:.3f} ms a question (median of 7)\")")
else
    times=()
    for _ in $(seq 7); do
        start=$(date +%s%N); batch_run; times+=($(( ($(date +%s%N) - start) / 1000000 )))
    done
    ms="$(printf '%s\n' "${times[@]}" | sort -n | sed -n 4p)"
    batch_median="$ms ms = $(python3 -c "print(f'{$ms/5000:.3f}')") ms a question (median of 7)"
fi
batch_run
abstained=$(python3 -c "import json; print(sum(1 for l in open('$WORK/batch.jsonl') if (o := json.loads(l)) and not o['answered'] and 'error' not in o))")
in_queue=$(python3 -c "import sqlite3; print(sqlite3.connect('$WORK/batch.sqlite').execute('SELECT count(*) FROM asks').fetchone()[0])")
row "batch mode, 5,000 questions, SQLite on disk" "$batch_median; abstentions $abstained, in the queue $in_queue"

echo "== start-up and peak RSS at scale (anbud ask --format json over the generated questions)"
measure_kb 10000 "10k"
measure_kb 50000 "50k"

echo "load after: $(uptime | sed 's/.*load average: //')"

if [[ -z "${SKIP_BENCH:-}" ]]; then
    echo "== cargo bench --bench answering (criterion; latency, start-up and throughput reports)"
    cargo bench --bench answering 2>&1 | grep -Ev '^(Benchmarking|Warning|Found|  [0-9]+ \()' | tee "$WORK/bench.txt"
fi

echo
echo "== summary"
for key in "${!ROWS[@]}"; do printf '%-44s %s\n' "$key" "${ROWS[$key]}"; done | sort
