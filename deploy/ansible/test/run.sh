#!/usr/bin/env bash
# The fleet test: the tokenctl_register role registers 200 "hosts" of this
# machine with `tokenctl sandbox serve` through the example playbook, and a
# second run changes nothing. Run from anywhere:
#
#   deploy/ansible/test/run.sh
#
# It needs Go, ansible-playbook (Debian's ansible-core) and sh; .ci/run runs
# it as a step of its own (not part of `go test ./...`). Everything it makes
# lives in one temporary directory, removed at the end (FLEET_KEEP=1 keeps
# it). Settings (environment):
#
#   FLEET_HOSTS=200      hosts of the main runs
#   FLEET_BATCH=100      hosts per batch (the play's serial)
#   FLEET_FORKS=20       Ansible forks
#   FLEET_LCM_STEP=50ms  the sandbox's lifecycle step (ACCEPTED -> RUNNING -> SUCCESS)
#   FLEET_TOKENCTL=PATH  a tokenctl binary to use instead of building one
#   FLEET_BENCH=1        also time every tokenctl call of the controller and
#                        print where the time went (bench: docs/performance.md)
#
# Asserts: every host registered exactly once and healthy, no token left
# (the batches' leftover capacity deleted), the second run all ok with 0
# changes and no token created, failed hosts named and failed alone (a
# failing install and a missing vdefend-cli), the three passphrase sources
# (a controller file, a file on the hosts, a vault variable), one token per host when asked,
# and no passphrase, manifest or sandbox password anywhere in Ansible's -vvv
# output.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../../.." && pwd)
hosts=${FLEET_HOSTS:-200}
batch=${FLEET_BATCH:-100}
forks=${FLEET_FORKS:-20}
lcm_step=${FLEET_LCM_STEP:-50ms}
bench=${FLEET_BENCH:-}

start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/tokenctl-fleet.XXXXXX")
serve_pid=""
cleanup() {
	if [ -n "$serve_pid" ]; then
		kill -INT "$serve_pid" 2>/dev/null || true
		wait "$serve_pid" 2>/dev/null || true
	fi
	if [ -n "${FLEET_KEEP:-}" ]; then
		echo "fleet: kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

fail() {
	echo "fleet: FAIL: $*" >&2
	exit 1
}
say() { echo "fleet: $*"; }

command -v ansible-playbook >/dev/null || fail "ansible-playbook is not installed (Debian: apt-get install ansible-core)"

# --- tokenctl, the vdefend-cli shim and the sandbox ----------------------------
mkdir -p "$work/bin" "$work/hosts" "$work/logs"
if [ -n "${FLEET_TOKENCTL:-}" ]; then
	cp "$FLEET_TOKENCTL" "$work/bin/tokenctl"
else
	(cd "$repo" && go build -o "$work/bin/tokenctl" .)
fi
tokenctl="$work/bin/tokenctl"
printf '#!/bin/sh\nexec %s sandbox vdefend-cli "$@"\n' "$tokenctl" >"$work/bin/vdefend-cli"
chmod 0755 "$work/bin/vdefend-cli"

# Fresh secrets for every run, so that finding them in a log means a leak.
rand() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
umask 077
password="sbx-$(rand 12)"
passphrase="Fleet-$(rand 10)-Pp1!"
printf '%s\n' "$password" >"$work/sandbox-password"
printf '%s\n' "$passphrase" >"$work/passphrase"
umask 022

"$tokenctl" sandbox serve --state "$work/sandbox.json" --url-file "$work/url" \
	--lcm-step "$lcm_step" --password-file "$work/sandbox-password" 2>>"$work/logs/sandbox.log" &
serve_pid=$!
for _ in $(seq 100); do
	[ -s "$work/url" ] && break
	kill -0 "$serve_pid" 2>/dev/null || fail "sandbox serve ended: $(cat "$work/logs/sandbox.log")"
	sleep 0.1
done
[ -s "$work/url" ] || fail "sandbox serve did not start"
url=$(cat "$work/url")

export TOKENCTL_CONFIG="$work/config.yaml" XDG_STATE_HOME="$work/state" XDG_CONFIG_HOME="$work/config"
export FLEET_SANDBOX_PASSWORD="$password"
unset TOKENCTL_PROFILE TOKENCTL_SERVER TOKENCTL_PLATFORM TOKENCTL_USERNAME TOKENCTL_PASSWORD TOKENCTL_OUTPUT
"$tokenctl" profile set fleet --platform ssp --server "$url" --username admin \
	--password-env FLEET_SANDBOX_PASSWORD >/dev/null 2>&1
tk() { "$tokenctl" --profile fleet --no-input "$@"; }

# The controller's tokenctl: the binary, or with FLEET_BENCH a wrapper that
# logs each call's start and end (and the vdefend-cli shim does the same for
# the hosts' installers).
controller="$tokenctl"
if [ -n "$bench" ]; then
	controller="$work/bin/tokenctl-timed"
	cat >"$controller" <<EOF
#!/bin/sh
t0=\$(date +%s%N)
"$tokenctl" "\$@"
rc=\$?
echo "\$t0 \$(date +%s%N) controller-\$4-\$5" >>"$work/logs/calls"
exit \$rc
EOF
	cat >"$work/bin/vdefend-cli" <<EOF
#!/bin/sh
t0=\$(date +%s%N)
"$tokenctl" sandbox vdefend-cli "\$@"
rc=\$?
echo "\$t0 \$(date +%s%N) host-vdefend-cli" >>"$work/logs/calls"
exit \$rc
EOF
	chmod 0755 "$controller" "$work/bin/vdefend-cli"
	: >"$work/logs/calls"
fi

# --- Ansible -------------------------------------------------------------------
export ANSIBLE_PIPELINING=True ANSIBLE_FORKS="$forks" ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=False
export ANSIBLE_LOCAL_TEMP="$work/ansible-local" ANSIBLE_REMOTE_TEMP="$work/ansible-remote"
export ANSIBLE_STDOUT_CALLBACK=default
# Ansible reads ansible.cfg from the working directory: run from $work.
cd "$work"

# playbook NAME INVENTORY [EXTRA ARGS...]: runs the example playbook at -vvv,
# capturing its output in logs/NAME.log; sets $rc and $secs, and marks the
# sandbox log so that the run's requests can be counted.
playbook() {
	local name=$1 inventory=$2
	shift 2
	echo "=== $name" >>"$work/logs/sandbox.log"
	echo "$name $(date +%s%N)" >>"$work/logs/windows"
	local t0=$SECONDS
	set +e
	ansible-playbook -vvv -i "$inventory" "$repo/deploy/ansible/register.yml" \
		-e fleet_batch_size="$batch" \
		-e tokenctl_register_tokenctl="$controller" \
		-e tokenctl_register_profile=fleet \
		-e tokenctl_register_passphrase_file="$work/passphrase" \
		-e tokenctl_register_wait_interval=100ms \
		-e tokenctl_register_wait_timeout=300 \
		"$@" >"$work/logs/$name.log" 2>&1
	rc=$?
	set -e
	secs=$((SECONDS - t0))
	echo "$name-end $(date +%s%N)" >>"$work/logs/windows"
	echo "=== end $name" >>"$work/logs/sandbox.log"
}

# recap NAME: the PLAY RECAP of logs/NAME.log as "host ok changed failed unreachable".
recap() {
	sed -n '/^PLAY RECAP/,$p' "$work/logs/$1.log" |
		awk '$2 == ":" { o = c = f = u = ""; for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "ok") o = kv[2]; if (kv[1] == "changed") c = kv[2]; if (kv[1] == "failed") f = kv[2]; if (kv[1] == "unreachable") u = kv[2] } print $1, o, c, f, u }'
}

# requests NAME: tokenctl's requests to the sandbox during run NAME, and the
# hosts' registrations (the stand-in's register route).
requests() {
	sed -n "/^=== $1\$/,/^=== end $1\$/p" "$work/logs/sandbox.log" | grep -v '^===' | grep -vc '^POST /_sandbox/' || true
}
registrations() {
	sed -n "/^=== $1\$/,/^=== end $1\$/p" "$work/logs/sandbox.log" | grep -c '^POST /_sandbox/ssp/register ' || true
}
token_creates() {
	sed -n "/^=== $1\$/,/^=== end $1\$/p" "$work/logs/sandbox.log" | grep -c '^POST /baremetal/registration-tokens ' || true
}

# --- run 1: every host registers ----------------------------------------------------
sh "$repo/deploy/ansible/test/inventory.sh" "$hosts" "$work/hosts" fleet "$work/bin" >"$work/fleet.yml"
ansible-playbook --syntax-check -i "$work/fleet.yml" "$repo/deploy/ansible/register.yml" >/dev/null ||
	fail "ansible-playbook --syntax-check register.yml"
for f in "$repo"/deploy/ansible/roles/tokenctl_register/files/settle.sh "$repo"/deploy/ansible/test/inventory.sh; do
	sh -n "$f" || fail "sh -n $f"
done
say "run 1: $hosts hosts, batches of $batch, $forks forks"
playbook run1 "$work/fleet.yml"
run1_secs=$secs
[ "$rc" -eq 0 ] || { tail -40 "$work/logs/run1.log"; fail "run 1 exited $rc"; }
recap run1 >"$work/recap1"
[ "$(wc -l <"$work/recap1")" -eq "$hosts" ] || fail "run 1: the recap lists $(wc -l <"$work/recap1") hosts, want $hosts"
awk '$4 != 0 || $5 != 0 || $3 < 1 { print; bad = 1 } END { exit bad }' "$work/recap1" ||
	fail "run 1: hosts above failed, were unreachable or changed nothing"

# 200 servers, each exactly once, each host's own name, all healthy
expected=$(seq -f 'fleet-%03g' 1 "$hosts")
names=$(tk baremetal details -o json --jq '.[].display_name' | sort)
[ "$names" = "$expected" ] || fail "the servers' names are not exactly fleet-001..$hosts once each: $(diff <(echo "$expected") <(echo "$names") | head -5)"
healthy=$(tk baremetal details -o json --jq '[.[] | select(.state == "READY" and .lcm_status == "SUCCESS" and .connectivity_status == "UP" and .agent_health.overall_agent_health == "OK")] | length')
[ "$healthy" -eq "$hosts" ] || fail "$healthy of $hosts servers are READY, SUCCESS, UP and OK"
pools=$(tk baremetal list -o json --jq '[.[].registration_token_id] | unique | length')
want_pools=$(((hosts + batch - 1) / batch))
[ "$pools" -eq "$want_pools" ] || fail "the servers registered with $pools tokens, want one pool per batch: $want_pools"
# the host side: each stand-in registered once
once=$(grep -l 'install bms ssp: registered' "$work"/hosts/fleet-*/var/log/vmware/vdefend/vdefend-cli.log | wc -l)
[ "$once" -eq "$hosts" ] || fail "$once of $hosts hosts logged a registration"
more=$(grep -c 'install bms ssp: registered' "$work"/hosts/fleet-*/var/log/vmware/vdefend/vdefend-cli.log | grep -vc ':1$' || true)
[ "$more" -eq 0 ] || fail "$more hosts registered more than once"
# leftover capacity: no token is left
left=$(tk token status --type baremetal -o json --jq 'length')
[ "$left" -eq 0 ] || fail "$left baremetal tokens are left after run 1"
[ "$(registrations run1)" -eq "$hosts" ] || fail "run 1: $(registrations run1) host registrations, want $hosts"
run1_requests=$(requests run1)
say "run 1: ok in ${run1_secs}s: $hosts servers healthy, $pools pool tokens made and deleted, $run1_requests tokenctl requests"

# --- run 2: nothing to do -------------------------------------------------------
playbook run2 "$work/fleet.yml"
run2_secs=$secs
[ "$rc" -eq 0 ] || { tail -40 "$work/logs/run2.log"; fail "run 2 exited $rc"; }
recap run2 >"$work/recap2"
[ "$(wc -l <"$work/recap2")" -eq "$hosts" ] || fail "run 2: the recap lists $(wc -l <"$work/recap2") hosts, want $hosts"
awk '$3 != 0 || $4 != 0 || $5 != 0 || $2 < 1 { print; bad = 1 } END { exit bad }' "$work/recap2" ||
	fail "run 2: hosts above changed something, failed or were not ok"
[ "$(token_creates run2)" -eq 0 ] || fail "run 2 created tokens"
[ "$(registrations run2)" -eq 0 ] || fail "run 2 registered hosts"
[ "$(tk baremetal list -o json --jq 'length')" -eq "$hosts" ] || fail "run 2 changed the number of servers"
run2_requests=$(requests run2)
say "run 2: ok in ${run2_secs}s: $hosts hosts ok, 0 changed, $run2_requests tokenctl requests"

# --- run 3: failures are the failing hosts' alone -----------------------------------
control() { # POST body $2 to the sandbox's control route $1
	python3 -c 'import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], sys.argv[2].encode(), method="POST"))' "$url$1" "$2"
}
control /_sandbox/ssp/faults '{"fail_hosts": "^broken-"}'
{
	sh "$repo/deploy/ansible/test/inventory.sh" 2 "$work/hosts" broken "$work/bin"
	sh "$repo/deploy/ansible/test/inventory.sh" 2 "$work/hosts" sound "$work/bin" | sed -n '/^        sound-/,$p'
	sh "$repo/deploy/ansible/test/inventory.sh" 1 "$work/hosts" bare "$work/nowhere" | sed -n '/^        bare-/,$p'
} >"$work/failures.yml"
# --check first: every host would register, nothing is made
playbook run3check "$work/failures.yml" -e fleet_batch_size=5 -e tokenctl_register_rps=50 -e tokenctl_register_host_passphrase_file="$work/passphrase" --check
[ "$rc" -eq 0 ] || { tail -40 "$work/logs/run3check.log"; fail "run 3 --check exited $rc"; }
recap run3check | awk '$3 != 1 || $4 != 0 { print; bad = 1 } END { exit bad }' || fail "run 3 --check: every host should report a change to come"
[ "$(token_creates run3check)" -eq 0 ] && [ "$(registrations run3check)" -eq 0 ] || fail "run 3 --check made a token or registered a host"
playbook run3 "$work/failures.yml" -e fleet_batch_size=5 -e tokenctl_register_rps=50 -e tokenctl_register_host_passphrase_file="$work/passphrase"
[ "$rc" -eq 2 ] || { tail -40 "$work/logs/run3.log"; fail "run 3 exited $rc, want 2 (some hosts failed)"; }
recap run3 >"$work/recap3"
for h in broken-001 broken-002 bare-001; do
	grep -q "^$h [0-9]* [0-9]* 1 0$" "$work/recap3" || fail "run 3: $h did not fail alone: $(grep "^$h " "$work/recap3")"
done
for h in sound-001 sound-002; do
	grep -q "^$h [0-9]* 1 0 0$" "$work/recap3" || fail "run 3: $h did not register: $(grep "^$h " "$work/recap3")"
done
grep -A2 'fatal: \[broken-001\]: FAILED!' "$work/logs/run3.log" |
	grep -q '"msg": "broken-001 (server [0-9a-f-]*) failed: lcm FAILED (INSTALL): .*broken-001.*uninstall [0-9a-f-]* --force' ||
	fail "run 3: broken-001's failure does not name it with its lcm_error"
grep -A2 'fatal: \[bare-001\]: FAILED!' "$work/logs/run3.log" | grep -q '"msg": "the install script failed on bare-001 (exit 127): .*vdefend-cli is not on PATH' ||
	fail "run 3: bare-001's failure does not say that vdefend-cli is missing"
grep -q '"--rps",' "$work/logs/run3.log" || fail "run 3: the controller's tokenctl calls did not get --rps"
grep -q 'settle: 2 of 4 host(s) failed; waiting for the other 2' "$work/logs/run3.log" ||
	fail "run 3: the wait did not go on for the sound hosts after the broken ones failed"
grep -q '2 of 5 host(s) registered and healthy; failed: bare-001, broken-001, broken-002' "$work/logs/run3.log" ||
	fail "run 3: the batch report does not name the failed hosts"
[ "$(tk token status --type baremetal -o json --jq 'length')" -eq 0 ] || fail "run 3 left a token behind"
control /_sandbox/ssp/faults '{"fail_hosts": ""}'
# again: the FAILED servers need a person (named with their ids), bare-001
# still lacks vdefend-cli, the sound hosts are left alone
playbook run3again "$work/failures.yml" -e fleet_batch_size=5 -e tokenctl_register_rps=50 -e tokenctl_register_host_passphrase_file="$work/passphrase"
[ "$rc" -eq 2 ] || fail "run 3 again exited $rc, want 2"
recap run3again >"$work/recap3again"
for h in broken-001 broken-002 bare-001; do
	grep -q "^$h [0-9]* [0-9]* 1 0$" "$work/recap3again" || fail "run 3 again: $h did not fail: $(grep "^$h " "$work/recap3again")"
done
grep -A2 'fatal: \[broken-002\]: FAILED!' "$work/logs/run3again.log" |
	grep -q '"msg": "SSP has no working server for broken-002: server [0-9a-f-]* is FAILED: .*uninstall [0-9a-f-]* --force' ||
	fail "run 3 again: broken-002 is not reported as a FAILED server to remove"
for h in sound-001 sound-002; do
	grep -q "^$h [0-9]* 0 0 0$" "$work/recap3again" || fail "run 3 again: $h was not left alone: $(grep "^$h " "$work/recap3again")"
done
[ "$(registrations run3again)" -eq 0 ] || fail "run 3 again registered a host"
say "run 3: ok (the hosts read the passphrase from their own file): --check changed nothing; broken-001, broken-002 (lcm FAILED) and bare-001 (no vdefend-cli) failed alone, sound-001/002 registered; again: the FAILED servers reported for removal"

# --- run 4: one token per host ---------------------------------------------------
# The passphrase from an Ansible Vault variable this time (apply reads it
# inline from stdin, the install script gets it on stdin).
sh "$repo/deploy/ansible/test/inventory.sh" 3 "$work/hosts" single "$work/bin" >"$work/single.yml"
printf '%s\n' "vault-$(rand 8)" >"$work/vault-password"
ansible-vault encrypt_string --vault-password-file "$work/vault-password" "$passphrase" \
	--name tokenctl_register_passphrase >"$work/vault.yml" 2>/dev/null || fail "ansible-vault encrypt_string"
vault=(-e tokenctl_register_passphrase_file= -e @"$work/vault.yml" --vault-password-file "$work/vault-password")
playbook run4 "$work/single.yml" -e tokenctl_register_token_mode=per_host "${vault[@]}"
[ "$rc" -eq 0 ] || { tail -40 "$work/logs/run4.log"; fail "run 4 exited $rc"; }
tokens=$(tk baremetal list -o json --jq '[.[] | select(.display_name | startswith("single-")) | .registration_token_id] | unique | length')
[ "$tokens" -eq 3 ] || fail "run 4: 3 hosts registered with $tokens tokens, want 3"
[ "$(token_creates run4)" -eq 3 ] || fail "run 4 created $(token_creates run4) tokens, want 3"
[ "$(tk token status --type baremetal -o json --jq 'length')" -eq 0 ] || fail "run 4 left a token behind"
playbook run4again "$work/single.yml" -e tokenctl_register_token_mode=per_host "${vault[@]}"
[ "$rc" -eq 0 ] || fail "run 4 again exited $rc"
recap run4again | awk '$3 != 0 || $4 != 0 { print; bad = 1 } END { exit bad }' || fail "run 4 again changed something"
say "run 4: ok: 3 hosts with a token each, the passphrase from a vault variable, tokens deleted; again: 0 changed"

# --- no secret in Ansible's output ----------------------------------------------------
# The sandbox's manifests are base64 of {"ssp":"<url>","token_id":"<id>",...}:
# every one begins with eyJzc3Ai, and a token's manifest with the base64 of
# its known prefix. Prove the patterns on a live manifest first.
probe=$(tk token create --type baremetal --display-name fleet-probe --passphrase-file "$work/passphrase" -o id 2>/dev/null)
tk token status "$probe" -o manifest >"$work/probe-manifest"
tk token delete "$probe" --type baremetal --yes >/dev/null 2>&1
manifest_prefix() { printf '{"ssp":"%s","token_id":"%s","device_type":"BAREMETAL","expiration":' "$url" "$1" | base64 -w0 | cut -c1-96; }
grep -q "$(manifest_prefix "$probe")" "$work/probe-manifest" || fail "the manifest pattern does not match a real manifest"
grep -q 'eyJzc3Ai' "$work/probe-manifest" || fail "the manifest pattern eyJzc3Ai does not match a real manifest"
basic=$(printf 'admin:%s' "$password" | base64 -w0)
secrets=("$passphrase" "$password" "$basic" "eyJzc3Ai")
for id in $(tk baremetal list -o json --jq '.[].registration_token_id' | sort -u); do
	secrets+=("$(manifest_prefix "$id")")
done
for log in "$work"/logs/run*.log; do
	grep -q 'ESTABLISH LOCAL CONNECTION' "$log" || fail "$(basename "$log") is not -vvv output"
	for s in "${secrets[@]}"; do
		if grep -qF -- "$s" "$log"; then
			fail "$(basename "$log") holds a secret (pattern ${s:0:8}...)"
		fi
	done
done
say "secrets: none of ${#secrets[@]} patterns (passphrase, sandbox password and its Basic form, manifests) in $(ls "$work"/logs/run*.log | wc -l) -vvv logs ($(cat "$work"/logs/run*.log | wc -c) bytes)"

if [ -n "$bench" ]; then
	# Where the time of runs 1 and 2 went: tokenctl on the controller, the
	# hosts' installer (the stand-in: tokenctl sandbox vdefend-cli), and
	# Ansible (everything else: scheduling, forks, modules, templating).
	for run in run1 run2; do
		from=$(awk -v r="$run" '$1 == r { print $2 }' "$work/logs/windows")
		to=$(awk -v r="$run-end" '$1 == r { print $2 }' "$work/logs/windows")
		say "bench: $run: $(awk -v r="$(requests "$run")" -v h="$hosts" 'BEGIN { printf "%d tokenctl requests (%.2f per host)", r, r / h }'), $(registrations "$run") host registrations"
		awk -v from="$from" -v to="$to" -v run="$run" '
			function union(kind,   i, j, n, s, e, tot, cs, ce, tmp) {
				n = 0
				for (i = 1; i <= cnt; i++) if (kind == "" || index(k_[i], kind) == 1) { n++; s[n] = s_[i]; e[n] = e_[i] }
				for (i = 2; i <= n; i++) for (j = i; j > 1 && s[j] < s[j-1]; j--) { tmp = s[j]; s[j] = s[j-1]; s[j-1] = tmp; tmp = e[j]; e[j] = e[j-1]; e[j-1] = tmp }
				tot = 0; cs = -1
				for (i = 1; i <= n; i++) {
					if (cs < 0 || s[i] > ce) { if (cs >= 0) tot += ce - cs; cs = s[i]; ce = e[i] }
					else if (e[i] > ce) ce = e[i]
				}
				if (cs >= 0) tot += ce - cs
				return tot / 1e9
			}
			$1 >= from && $2 <= to { cnt++; s_[cnt] = $1; e_[cnt] = $2; k_[cnt] = $3; sum[$3] += ($2 - $1) / 1e9; num[$3]++ }
			END {
				wall = (to - from) / 1e9
				for (k in sum) printf "fleet: bench: %s: %-32s %4d call(s), %7.2f s in all\n", run, k, num[k], sum[k]
				c = union("controller"); h = union("host"); a = union("")
				printf "fleet: bench: %s: wall %.1f s = tokenctl on the controller %.1f s (%.0f%%), hosts installing (no controller call) %.1f s (%.0f%%), Ansible alone %.1f s (%.0f%%)\n", run, wall, c, 100 * c / wall, a - c, 100 * (a - c) / wall, wall - a, 100 * (wall - a) / wall
			}' "$work/logs/calls"
	done
fi
say "all passed in $((SECONDS - start))s"
