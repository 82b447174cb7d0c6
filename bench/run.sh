#!/usr/bin/env bash
# tokenctl benchmarks (issue 8): tokenctl against curl on one sandbox in one
# run, in interleaved pairs, reported as medians and ratios; peak RSS of
# streaming 10k and 100k sensors; the binary's size; the Go benchmarks; and
# each fuzz target for a time budget. Nothing here gates anything: the
# figures go into docs/performance.md by hand, with the machine they ran on.
#
# Needs: Go, curl, bash. No network beyond the Go module proxy.
# Knobs: PAIRS (15), LIST_PAIRS (9), CREATE_PAIRS (5), FUZZTIME (30s),
#        SKIP_FUZZ=1, SKIP_GOBENCH=1, SKIP_FAULT_RUN=1.
set -euo pipefail
cd "$(dirname "$0")/.."

PAIRS=${PAIRS:-15}
LIST_PAIRS=${LIST_PAIRS:-9}
CREATE_PAIRS=${CREATE_PAIRS:-5}
FUZZTIME=${FUZZTIME:-30s}
results=bench/results
mkdir -p "$results"
report="$results/run-$(date -u +%Y%m%dT%H%M%SZ).md"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

say() { echo "$@" | tee -a "$report"; }

say "# tokenctl benchmark run"
say ""
say "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
say "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM"
say "- kernel: $(uname -a)"
say "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
say "- $(go version); $(curl --version | head -1 | cut -d' ' -f1-2)"
say ""

echo "building..." >&2
go build -o "$work/tokenctl" .
go build -trimpath -ldflags "-s -w" -o "$work/tokenctl-stripped" .
go build -o "$work/pairtime" ./bench/pairtime
tk="$work/tokenctl"
pt="$work/pairtime"

export HOME="$work/home" XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state" CI=1 NO_COLOR=1
unset TOKENCTL_PROFILE TOKENCTL_SERVER TOKENCTL_PLATFORM TOKENCTL_USERNAME TOKENCTL_PASSWORD
PW=tokenctl-sandbox
export BENCH_PW=$PW

# serve N URLFILE: a sandbox with N seeded sensors in the background.
serve() {
  "$tk" sandbox serve --seed-sensors "$1" --state "$work/state-$1.json" --url-file "$2" 2>"$work/serve-$1.log" &
  pids+=($!)
  for _ in $(seq 200); do [ -s "$2" ] && return 0; sleep 0.05; done
  echo "sandbox with $1 sensors did not start" >&2; cat "$work/serve-$1.log" >&2; exit 1
}
serve 100000 "$work/url100k.txt"
serve 10000 "$work/url10k.txt"
URL=$(cat "$work/url100k.txt")
URL10K=$(cat "$work/url10k.txt")

"$tk" profile set bench --platform ssp --server "$URL" --username admin --password-env BENCH_PW >/dev/null 2>&1
"$tk" profile set bench10k --platform ssp --server "$URL10K" --username admin --password-env BENCH_PW >/dev/null 2>&1
ID=$(printf 'Bench-Passphrase-1!\n' | "$tk" --profile bench token create --display-name bench-get --passphrase-stdin -o id 2>/dev/null)

# The 100 pages `sensor list --all` fetches (the server's default page size).
pages=()
for off in $(seq 0 1000 99000); do pages+=("$URL/sensors/appliances?offset=$off&page_size=1000"); done
pages10k=()
for off in $(seq 0 1000 9000); do pages10k+=("$URL10K/sensors/appliances?offset=$off&page_size=1000"); done

# 1,000 documents for (b), and the same bodies for the curl loop.
: >"$work/m1000.yaml"
for i in $(seq -w 0 999); do
  printf -- '---\ndisplay_name: bulk-%s\ndescription: benchmark\npassphrase: Bench-Passphrase-1!\n' "$i" >>"$work/m1000.yaml"
done
printf '{"display_name":"bulk-curl","description":"benchmark","passphrase":"Bench-Passphrase-1!"}' >"$work/body.json"
cat >"$work/curl-loop.sh" <<EOF
#!/usr/bin/env bash
for i in \$(seq 1000); do
  curl -s -u admin:$PW -H 'Content-Type: application/json' -d @$work/body.json $URL/sensors/registration-tokens >/dev/null
done
EOF
chmod +x "$work/curl-loop.sh"

say "## tokenctl against curl (interleaved pairs, medians)"
say ""
echo "(d) start-up..." >&2
"$pt" -header -n "$PAIRS" -label "(d) \`tokenctl version\` vs \`curl --version\`" -- "$tk" version -- curl --version | tee -a "$report"
echo "(a) one GET..." >&2
"$pt" -n "$PAIRS" -label "(a) \`token get ID -o json\` vs \`curl -s -u\` one GET" -- "$tk" --profile bench token get "$ID" -o json \
  -- curl -s -u "admin:$PW" "$URL/sensors/registration-tokens/$ID" | tee -a "$report"
echo "(c) 100k sensors..." >&2
"$pt" -n "$LIST_PAIRS" -label "(c) \`sensor list --all -o json\`, 100,000 sensors, vs curl of the same 100 pages" \
  -- "$tk" --profile bench sensor list --all -o json -- curl -s -u "admin:$PW" "${pages[@]}" | tee -a "$report"
"$pt" -n 5 -label "(c') the same over 10,000 sensors (10 pages)" \
  -- "$tk" --profile bench10k sensor list --all -o json -- curl -s -u "admin:$PW" "${pages10k[@]}" | tee -a "$report"
echo "(e) output formats, 100k sensors..." >&2
for f in jsonl id table; do
  "$pt" -n "$LIST_PAIRS" -label "(e) \`sensor list --all -o $f\` vs \`-o json\`, 100,000 sensors" \
    -- "$tk" --profile bench sensor list --all -o "$f" -- "$tk" --profile bench sensor list --all -o json | tee -a "$report"
done
"$pt" -n "$LIST_PAIRS" -label "(e') \`sensor list --all -o jsonl\`, 100,000 sensors, vs curl of the same 100 pages" \
  -- "$tk" --profile bench sensor list --all -o jsonl -- curl -s -u "admin:$PW" "${pages[@]}" | tee -a "$report"
echo "(b) 1,000 creates..." >&2
"$pt" -n "$CREATE_PAIRS" -label "(b) 1,000 tokens from one manifest (concurrency 4, the default) vs a curl loop" \
  -- "$tk" --profile bench token create -f "$work/m1000.yaml" -o json -- "$work/curl-loop.sh" | tee -a "$report"
"$pt" -n "$CREATE_PAIRS" -label "(b') the same with --concurrency 16" \
  -- "$tk" --profile bench token create -f "$work/m1000.yaml" --concurrency 16 -o json -- "$work/curl-loop.sh" | tee -a "$report"
say ""
say "Ratios are tokenctl / other: below 1.0 tokenctl is faster. Peak RSS is the largest of the runs."
say ""

say "## Binary size"
say ""
say "- \`go build\`: $(stat -c %s "$tk") bytes ($(awk -v b="$(stat -c %s "$tk")" 'BEGIN {printf "%.1f", b/1048576}') MiB)"
say "- \`go build -trimpath -ldflags '-s -w'\` (release): $(stat -c %s "$work/tokenctl-stripped") bytes ($(awk -v b="$(stat -c %s "$work/tokenctl-stripped")" 'BEGIN {printf "%.1f", b/1048576}') MiB)"
say ""

say "## Start-up"
say ""
say '```'
GODEBUG=inittrace=1 "$tk" version 2>&1 >/dev/null | awk '{ms+=$5; allocs+=$(NF-1)} END {printf "package init: %.2f ms in total, %d allocations\n", ms, allocs}' | tee -a "$report"
GODEBUG=inittrace=1 "$tk" version 2>&1 >/dev/null | sort -k5 -g -r | head -5 | tee -a "$report"
say '```'
say ""

if [ -z "${SKIP_GOBENCH:-}" ]; then
  echo "Go benchmarks..." >&2
  say "## Go benchmarks"
  say ""
  say '```'
  go test -run '^$' -bench . -benchtime 20x -benchmem ./internal/client ./internal/output ./internal/manifest ./internal/sandbox/ssp 2>&1 |
    grep -E '^(Benchmark|ok|FAIL)' | tee -a "$report"
  say '```'
  say ""
fi

if [ -z "${SKIP_FAULT_RUN:-}" ]; then
  echo "fault-injected run..." >&2
  say "## Fault-injected runs (also part of go test ./...)"
  say ""
  say '```'
  go test -count=1 -run 'TestFaultInjected' -v . 2>&1 | grep -E 'operations in|exit codes by|^(--- |ok|FAIL)' | sed 's/^ *//' | tee -a "$report"
  say '```'
  say ""
fi

if [ -z "${SKIP_FUZZ:-}" ]; then
  say "## Fuzzing ($FUZZTIME per target)"
  say ""
  for t in internal/manifest:FuzzParseDecode internal/client:FuzzEachItem internal/client:FuzzVendorErrors \
    internal/output:FuzzAppendIndent internal/sandbox:FuzzVendorRequests; do
    pkg=${t%%:*} name=${t##*:}
    echo "fuzzing $name..." >&2
    # A new interesting input is minimised for up to -fuzzminimizetime
    # (60s by default), during which the exec count stands still.
    if out=$(go test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 10s "./$pkg" 2>&1); then
      result="pass"
    else
      result="FAIL"
    fi
    execs=$(echo "$out" | grep -o 'execs: [0-9]*' | tail -1)
    say "- $name ($pkg): $result, ${execs:-no count}"
    [ "$result" = pass ] || echo "$out" | tail -20 | tee -a "$report"
  done
  say ""
fi
echo "report: $report" >&2
