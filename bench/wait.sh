#!/usr/bin/env bash
# Benchmark of `token wait` (issue 11): HOSTS baremetal hosts register with one pool token
# on `sandbox serve` while `tokenctl token wait --count HOSTS --for healthy` polls; the same
# with one host. Reports the rounds, the requests per round by operation (from the sandbox's
# request log) and tokenctl's CPU time (user+sys) per round. The point: a round costs the
# same calls for 200 hosts as for 1. Nothing here gates anything.
#
# Needs: Go, bash, curl. Knobs: HOSTS (200), LCM_STEP (500ms), INTERVAL (200ms),
# SPREAD (hosts register over this many seconds, 3).
set -euo pipefail
cd "$(dirname "$0")/.."

HOSTS=${HOSTS:-200}
LCM_STEP=${LCM_STEP:-500ms}
INTERVAL=${INTERVAL:-200ms}
SPREAD=${SPREAD:-3}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/tokenctl" .
tk="$work/tokenctl"
export HOME="$work/home" XDG_CONFIG_HOME="$work/config" XDG_STATE_HOME="$work/state" CI=1 NO_COLOR=1
unset TOKENCTL_PROFILE TOKENCTL_SERVER TOKENCTL_PLATFORM TOKENCTL_USERNAME TOKENCTL_PASSWORD
export BENCH_PW=tokenctl-sandbox
PP='Bench-Wait-Passphrase-1!'
printf '%s\n' "$PP" >"$work/pp"

"$tk" sandbox serve --state "$work/state.json" --url-file "$work/url" --lcm-step "$LCM_STEP" 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 200); do [ -s "$work/url" ] && break; sleep 0.05; done
url=$(cat "$work/url")
"$tk" profile set bench --platform ssp --server "$url" --username admin --password-env BENCH_PW 2>/dev/null
export TOKENCTL_PROFILE=bench

echo "# token wait benchmark"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- lcm step $LCM_STEP, --interval $INTERVAL, hosts register over ${SPREAD}s"
echo
echo "| hosts | rounds | token status / round | server list / round | status query / round | requests / round | CPU total | CPU / round | wall |"
echo "|---|---|---|---|---|---|---|---|---|"

run() {
  local n=$1 token
  token=$("$tk" token create --type baremetal --display-name "bench-$n" --allowed-instances "$n" --passphrase-file "$work/pp" -o id 2>/dev/null)
  local mark
  mark=$(wc -l <"$work/serve.log")
  # The hosts register while the wait runs, spread over SPREAD seconds.
  (
    for i in $(seq "$n"); do
      curl -s -o /dev/null -X POST "$url/_sandbox/ssp/register" -H 'Content-Type: application/json' \
        -d "{\"token_id\":\"$token\",\"passphrase\":\"$PP\",\"hostname\":\"bench-$n-$i\"}"
      sleep "$(awk -v s="$SPREAD" -v n="$n" 'BEGIN { printf "%.4f", s / n }')"
    done
  ) &
  local reg=$!
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f '%U %S' -o "$work/cpu" "$tk" token wait "$token" --type baremetal --for healthy --count "$n" --interval "$INTERVAL" -o id >"$work/ids" 2>"$work/wait.err"
  end=$(date +%s.%N)
  wait "$reg"
  [ "$(wc -l <"$work/ids")" -eq "$n" ] || { echo "wait reached $(wc -l <"$work/ids") of $n" >&2; cat "$work/wait.err" >&2; exit 1; }
  tail -n +"$((mark + 1))" "$work/serve.log" >"$work/requests"
  local status list query rounds
  status=$(grep -c 'GET /baremetal/registration-tokens/{id}/status' "$work/requests" || true)
  list=$(grep -c 'GET /baremetal/servers ' "$work/requests" || true)
  query=$(grep -c 'POST /baremetal/servers-status-detail' "$work/requests" || true)
  rounds=$((status - 1)) # the first status call is the token's lookup
  read -r user sys <"$work/cpu"
  awk -v n="$n" -v r="$rounds" -v s="$status" -v l="$list" -v q="$query" -v u="$user" -v y="$sys" -v a="$start" -v b="$end" 'BEGIN {
    cpu = u + y
    printf "| %d | %d | %.2f | %.2f | %.2f | %.2f | %.2fs | %.1fms | %.1fs |\n", n, r, (s - 1) / r, l / r, q / r, (s - 1 + l + q) / r, cpu, cpu * 1000 / r, b - a
  }'
}

run 1
run "$HOSTS"
echo
echo "The server list and the status query have one page each here (page_size 1000); a fleet"
echo "above 1000 servers adds a page per 1000, the same for every token and host count."
