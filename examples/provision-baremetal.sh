#!/bin/sh
# The provisioning walk-through of docs/guides/provision-baremetal.md, run against
# `tokenctl sandbox serve` with the vdefend-cli shim standing in for the vendor's host
# installer. Every "host" is a folder of a scratch directory; nothing outside it changes.
#
#   sh examples/provision-baremetal.sh
#
# Needs tokenctl on PATH. WALK_LCM_STEP sets the sandbox's lifecycle step (default
# 200ms: an install takes three steps). Exits non-zero at the first step that does not
# do what the guide says.
set -eu

step=${WALK_LCM_STEP:-200ms}
work=$(mktemp -d "${TMPDIR:-/tmp}/tokenctl-walk.XXXXXX")
serve_pid=
cleanup() {
	if [ -n "$serve_pid" ]; then
		kill "$serve_pid" 2>/dev/null || :
		wait "$serve_pid" 2>/dev/null || :
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
say() { printf '\n== %s\n' "$*" >&2; }
fail() {
	printf 'walk-through: %s\n' "$*" >&2
	exit 1
}

# An SSP of our own: `sandbox serve`, whose hosts fail to install when named bad-*.
tokenctl sandbox serve --state "$work/sandbox.json" --url-file "$work/url" \
	--lcm-step "$step" --lcm-fail-hosts '^bad-' 2>"$work/serve.log" &
serve_pid=$!
i=0
while [ ! -s "$work/url" ]; do
	i=$((i + 1))
	[ "$i" -le 200 ] || fail "sandbox serve did not start: $(cat "$work/serve.log")"
	sleep 0.05
done
url=$(cat "$work/url")

# A profile for it, in a config file of its own.
export TOKENCTL_CONFIG="$work/config.yaml" SBX_PASSWORD=tokenctl-sandbox
tokenctl profile set walk --platform ssp --server "$url" --username admin --password-env SBX_PASSWORD 2>/dev/null
export TOKENCTL_PROFILE=walk

# The vendor's installer on the "hosts": the two-line shim.
mkdir -p "$work/bin"
printf '#!/bin/sh\nexec tokenctl sandbox vdefend-cli "$@"\n' >"$work/bin/vdefend-cli"
chmod +x "$work/bin/vdefend-cli"
PATH=$work/bin:$PATH
export TMPDIR="$work"

# host NAME: run the rest of the command line as host NAME (its own folder and hostname).
host() {
	name=$1
	shift
	mkdir -p "$work/$name"
	TOKENCTL_SANDBOX_HOST_ROOT="$work/$name" TOKENCTL_SANDBOX_HOSTNAME="$name" "$@"
}

umask 077
printf '%s\n' 'Walk-Through-Passphrase-2026!' >"$work/pp"

say "1. One host: create, install, wait until healthy, in one pipeline"
# In real life: ... -o install-script --wait healthy | ssh web-01 sudo sh
tokenctl token create --type baremetal --display-name web-01 --passphrase-file "$work/pp" \
	-o install-script --install-path "$work/web-01/vdefend" --wait healthy --interval 100ms |
	tee "$work/web-01.sh" | host web-01 sh
tokenctl baremetal list

say "2. The same script again: the marker says it is done, nothing is installed twice"
host web-01 sh "$work/web-01.sh"
# The token is USED now: it gives no more scripts (exit 5, nothing on stdout).
web01=$(tokenctl token list --type baremetal --display-name web-01 -o id)
rc=0
tokenctl token status "$web01" -o install-script --passphrase-file "$work/pp" >"$work/none.sh" || rc=$?
[ "$rc" -eq 5 ] && [ ! -s "$work/none.sh" ] || fail "a USED token: exit $rc, want 5 and no script"

say "3. N hosts with one pool token: --allowed-instances N, token wait --count N"
pool=$(tokenctl token create --type baremetal --display-name web-pool --allowed-instances 4 \
	--passphrase-file "$work/pp" -o id)
# The script reads the passphrase on each host from a file shipped there.
tokenctl token status "$pool" -o install-script --host-passphrase-file "$work/host.pp" >"$work/pool.sh"
cp "$work/pp" "$work/host.pp"
for h in web-02 web-03 web-04; do
	host "$h" sh "$work/pool.sh" --install-path "$work/$h/vdefend"
done
host web-02 sh "$work/pool.sh" --install-path "$work/web-02/vdefend" # again: nothing happens
tokenctl token wait "$pool" --for healthy --count 3 --interval 100ms
tokenctl token status "$pool"
# One instance is left over: delete the token so nothing else can register with it.
tokenctl token delete "$pool" --type baremetal --yes

say "4. A failed install: the wait exits 5 as soon as the count is out of reach"
pair=$(tokenctl token create --type baremetal --display-name db-pair --allowed-instances 2 \
	--passphrase-file "$work/pp" -o id)
tokenctl token status "$pair" -o install-script --passphrase-file "$work/pp" >"$work/pair.sh"
host db-01 sh "$work/pair.sh" --install-path "$work/db-01/vdefend"
host bad-01 sh "$work/pair.sh" --install-path "$work/bad-01/vdefend"
rc=0
tokenctl token wait "$pair" --for healthy --count 2 --interval 100ms || rc=$?
[ "$rc" -eq 5 ] || fail "token wait exited $rc, want 5 (a failed install)"
tokenctl baremetal status bad-01

say "5. A token that expires mid-batch: the wait exits 5, the next host cannot register"
batch=$(tokenctl token create --type baremetal --display-name edge-batch --allowed-instances 3 \
	--expiry-minutes 10 --passphrase-file "$work/pp" -o id)
tokenctl token status "$batch" -o install-script --passphrase-file "$work/pp" >"$work/batch.sh"
host edge-01 sh "$work/batch.sh" --install-path "$work/edge-01/vdefend"
# Sandbox only: move its clock past the token's 10 minutes.
printf '{"advance": "11m"}' | tokenctl api POST /_sandbox/clock -f - >/dev/null
rc=0
tokenctl token wait "$batch" --for registered --count 3 --interval 100ms || rc=$?
[ "$rc" -eq 5 ] || fail "token wait exited $rc, want 5 (EXPIRED)"
rc=0
host edge-02 sh "$work/batch.sh" --install-path "$work/edge-02/vdefend" || rc=$?
[ "$rc" -eq 5 ] || fail "the install on an EXPIRED token exited $rc, want 5"
# A new token for the hosts that are left.
rest=$(tokenctl token create --type baremetal --display-name edge-batch --allowed-instances 2 \
	--passphrase-file "$work/pp" -o id)
tokenctl token status "$rest" -o install-script --passphrase-file "$work/pp" >"$work/rest.sh"
for h in edge-02 edge-03; do
	host "$h" sh "$work/rest.sh" --install-path "$work/$h/vdefend"
done
tokenctl token wait "$rest" --for healthy --count 2 --interval 100ms

say "The fleet"
tokenctl baremetal list
tokenctl baremetal summary
printf '\nwalk-through complete\n' >&2
