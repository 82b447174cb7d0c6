#!/usr/bin/env bash
# tokenctl benchmarks: tokenctl against curl (and against the least a Go
# program can do, bench/floor) on one sandbox in one run, in interleaved
# pairs, reported as medians of the per-pair ratios with their spread; peak
# RSS of streaming 100k sensors in every list format; the binary's size and
# package initialisation; the Go benchmarks; a fault-injected run; and each
# fuzz target for a time budget. Nothing here gates anything.
#
#   bench/run.sh        runs everything and rewrites docs/performance.md
#
# The raw results stay in bench/results/run-*/ (rows.jsonl, facts.env, ...);
# `go run ./bench/report -results DIR` rewrites the page from them again.
#
# Needs: Go, curl, bash. No network beyond the Go module proxy.
# Knobs: PAIRS (21), LIST_PAIRS (9), TABLE_PAIRS (5), CREATE_PAIRS (5),
#        FUZZTIME (30s), SKIP_FUZZ=1, SKIP_GOBENCH=1, SKIP_FAULT_RUN=1, SKIP_PERF=1,
#        DOC (docs/performance.md; empty: leave the page alone).
set -euo pipefail
cd "$(dirname "$0")/.."

# The Go caches stay the user's when HOME moves below.
GOPATH=$(go env GOPATH) GOMODCACHE=$(go env GOMODCACHE) GOCACHE=$(go env GOCACHE)
export GOPATH GOMODCACHE GOCACHE

PAIRS=${PAIRS:-21}
LIST_PAIRS=${LIST_PAIRS:-9}
TABLE_PAIRS=${TABLE_PAIRS:-5}
CREATE_PAIRS=${CREATE_PAIRS:-5}
FUZZTIME=${FUZZTIME:-30s}
DOC=${DOC-docs/performance.md}
out="bench/results/run-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
report="$out/report.md"
rows="$out/rows.jsonl"
facts="$out/facts.env"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

say() { echo "$@" | tee -a "$report"; }
fact() { echo "$1=$2" >>"$facts"; }

# The machine, before anything of ours runs.
fact load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
fact date "$(date -u '+%Y-%m-%d %H:%M UTC')"
fact cpus "$(nproc)"
fact cpu_model "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
fact memory "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
fact kernel "$(uname -srvm)"
fact go "$(go version | cut -d' ' -f3)"
fact curl "$(curl --version | head -1 | cut -d' ' -f1-2)"
fact commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo +changes)"

say "# tokenctl benchmark run"
say ""
sed 's/^/- /' "$facts" | tee -a "$report"
say ""

echo "building..." >&2
# What is timed is the release build, built as .goreleaser.yaml builds it.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/tokenctl" .
go build -o "$work/tokenctl-dev" .
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$work/floor" ./bench/floor
go build -o "$work/pairtime" ./bench/pairtime
tk="$work/tokenctl"
pt() { "$work/pairtime" -json "$rows" "$@" | tee -a "$report"; }
fact size_release "$(stat -c %s "$tk")"
fact size_dev "$(stat -c %s "$work/tokenctl-dev")"

export HOME="$work/home" XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state" CI=1 NO_COLOR=1
unset TOKENCTL_PROFILE TOKENCTL_SERVER TOKENCTL_PLATFORM TOKENCTL_USERNAME TOKENCTL_PASSWORD TOKENCTL_OUTPUT
PW=tokenctl-sandbox
export BENCH_PW=$PW

# serve N URLFILE: a sandbox with N seeded sensors in the background (the
# dev build: the sandbox is not what is measured).
serve() {
  "$work/tokenctl-dev" sandbox serve --seed-sensors "$1" --state "$work/state-$1.json" --url-file "$2" 2>"$work/serve-$1.log" &
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

# The 100 pages a full sensor list fetches (the server's default page size),
# all given to one curl, which fetches them over one connection.
pages=()
for off in $(seq 0 1000 99000); do pages+=("$URL/sensors/appliances?offset=$off&page_size=1000"); done
pages10k=()
for off in $(seq 0 1000 9000); do pages10k+=("$URL10K/sensors/appliances?offset=$off&page_size=1000"); done
# Lists follow every page by default.
list=("$tk" --profile bench sensor list)
curlpages=(curl -s -u "admin:$PW" "${pages[@]}")

# 1,000 documents for the bulk create, and the same bodies for a curl loop.
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

say "## Interleaved pairs (ratio: tokenctl / other; below 1.0 tokenctl is faster)"
say ""
echo "start-up..." >&2
pt -header -n "$PAIRS" -key version -label "\`tokenctl version\` vs \`curl --version\`" -- "$tk" version -- curl --version
pt -n "$PAIRS" -key version_floor -label "floor: \`bench/floor version\` vs \`curl --version\`" -- "$work/floor" version -- curl --version
echo "one GET..." >&2
pt -n "$PAIRS" -key get -label "\`token get ID -o json\` vs \`curl -s -u\`" \
  -- "$tk" --profile bench token get "$ID" -o json -- curl -s -u "admin:$PW" "$URL/sensors/registration-tokens/$ID"
pt -n "$PAIRS" -key get_floor -label "\`token get ID -o json\` vs \`bench/floor get\`" \
  -- "$tk" --profile bench token get "$ID" -o json -- "$work/floor" get "$URL/sensors/registration-tokens/$ID"
pt -n "$PAIRS" -key floor_get -label "floor: \`bench/floor get\` vs \`curl -s -u\`" \
  -- "$work/floor" get "$URL/sensors/registration-tokens/$ID" -- curl -s -u "admin:$PW" "$URL/sensors/registration-tokens/$ID"
echo "100k sensors..." >&2
pt -n "$LIST_PAIRS" -key list_json -label "\`sensor list -o json\`, 100,000 sensors, vs one curl of the 100 pages" -- "${list[@]}" -o json -- "${curlpages[@]}"
pt -n "$LIST_PAIRS" -key list_id -label "\`sensor list -o id\`, 100,000 sensors, vs one curl of the 100 pages" -- "${list[@]}" -o id -- "${curlpages[@]}"
if "$tk" --help 2>&1 | grep -q jsonl; then
  pt -n "$LIST_PAIRS" -key list_jsonl -label "\`sensor list -o jsonl\`, 100,000 sensors, vs one curl of the 100 pages" -- "${list[@]}" -o jsonl -- "${curlpages[@]}"
else
  say "| \`sensor list -o jsonl\` | not in this build | | | | | | |"
fi
pt -n "$TABLE_PAIRS" -key list_table -label "\`sensor list\` (table), 100,000 sensors, vs one curl of the 100 pages" -- "${list[@]}" -- "${curlpages[@]}"
echo "list formats against -o json..." >&2
for f in jsonl id table; do
  pt -n "$LIST_PAIRS" -key "vs_json_$f" -label "\`sensor list -o $f\` vs \`-o json\`, 100,000 sensors" -- "${list[@]}" -o "$f" -- "${list[@]}" -o json
done
pt -n 5 -key list_json_10k -label "\`sensor list -o json\`, 10,000 sensors (10 pages), vs one curl" \
  -- "$tk" --profile bench10k sensor list -o json -- curl -s -u "admin:$PW" "${pages10k[@]}"
echo "1,000 creates..." >&2
pt -n "$CREATE_PAIRS" -key create -label "1,000 tokens from one manifest (concurrency 4) vs a curl loop" \
  -- "$tk" --profile bench token create -f "$work/m1000.yaml" -o json -- "$work/curl-loop.sh"
pt -n "$CREATE_PAIRS" -key create_c16 -label "the same with --concurrency 16" \
  -- "$tk" --profile bench token create -f "$work/m1000.yaml" --concurrency 16 -o json -- "$work/curl-loop.sh"
say ""

# Package initialisation, 21 runs (bench/report takes the medians).
for _ in $(seq 21); do GODEBUG=inittrace=1 "$tk" version 2>>"$out/inittrace.txt" >/dev/null; done

# Where a run's time goes (bench/perfsplit), when perf can record here: 200
# runs each of `version`, `token get` and bench/floor's GET, built as the
# release but with symbols.
if [ -z "${SKIP_PERF:-}" ] && command -v perf >/dev/null; then
  echo "profiles..." >&2
  CGO_ENABLED=0 go build -trimpath -o "$work/tokenctl-sym" .
  CGO_ENABLED=0 go build -trimpath -o "$work/floor-sym" ./bench/floor
  go build -o "$work/perfsplit" ./bench/perfsplit
  profile() { # NAME BINARY ARGS...
    local name=$1 bin=$2
    shift 2
    { echo 'for i in $(seq 200); do'; printf '  %q' "$bin" "$@"; echo ' >/dev/null'; echo 'done'; } >"$work/loop-$name.sh"
    if perf record -q -e cpu-clock -F 20000 -g -o "$work/$name.data" -- bash "$work/loop-$name.sh" >/dev/null 2>&1; then
      perf script -i "$work/$name.data" -F comm,ip,dso 2>/dev/null | "$work/perfsplit" -binary "$bin" >"$out/perf-$name.txt"
    else
      echo "perf record failed; no profile of $name" >&2
    fi
  }
  profile version "$work/tokenctl-sym" version
  profile get "$work/tokenctl-sym" --profile bench token get "$ID" -o json
  profile floor_get "$work/floor-sym" get "$URL/sensors/registration-tokens/$ID"
fi

if [ -z "${SKIP_GOBENCH:-}" ]; then
  echo "Go benchmarks..." >&2
  go test -run '^$' -bench . -benchtime 20x -benchmem ./internal/client ./internal/output ./internal/manifest ./internal/sandbox/ssp 2>&1 |
    grep -E '^(Benchmark|ok|FAIL)' | tee "$out/gobench.txt" >>"$report"
fi

if [ -z "${SKIP_FAULT_RUN:-}" ]; then
  echo "fault-injected run..." >&2
  go test -count=1 -run 'TestFaultInjected' -v . 2>&1 | grep -E 'operations in|exit codes by|^(--- |ok|FAIL)' | sed 's/^ *//' |
    tee "$out/fault.txt" >>"$report"
fi

if [ -z "${SKIP_FUZZ:-}" ]; then
  for t in internal/manifest:FuzzParseDecode internal/client:FuzzEachItem internal/client:FuzzVendorErrors \
    internal/output:FuzzAppendIndent internal/sandbox:FuzzVendorRequests; do
    pkg=${t%%:*} name=${t##*:}
    echo "fuzzing $name..." >&2
    # A new interesting input is minimised for up to -fuzzminimizetime
    # (60s by default), during which the exec count stands still.
    if fuzzout=$(go test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 10s "./$pkg" 2>&1); then
      result=pass
    else
      result=FAIL
      echo "$fuzzout" | tail -20 >>"$report"
    fi
    execs=$(echo "$fuzzout" | grep -o 'execs: [0-9]*' | tail -1 | cut -d' ' -f2)
    echo "$name $pkg $result ${execs:-?}" | tee -a "$out/fuzz.txt" >>"$report"
  done
  fact fuzztime "$FUZZTIME"
fi
fact load_end "$(cut -d' ' -f1-3 /proc/loadavg)"

echo "results: $out" >&2
if [ -n "$DOC" ]; then
  go run ./bench/report -results "$out" -template bench/performance.md.tmpl -o "$DOC"
  echo "wrote $DOC" >&2
fi
