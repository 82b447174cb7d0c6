#!/bin/sh
# settle.sh COUNT TIMEOUT_SECONDS INTERVAL TOKEN_ID TOKENCTL [GLOBAL FLAGS...]
#
# Waits, for one batch, until every host that ran the install script is
# healthy or failed: `tokenctl token wait --for healthy --count COUNT`. That
# wait ends with exit 5 as soon as COUNT can no longer be reached, which a
# single failed host causes while the others may still be installing; then
# the wait runs again for the hosts that did not fail (COUNT minus the failed
# ones), within what is left of TIMEOUT_SECONDS. Each wait polls once for the
# whole batch (a few list calls a round, whatever the number of hosts).
#
# stdout: the last wait's JSON (every host reached or failed, in the
# vendor's field names, with "result"); stderr: tokenctl's; exit: the last
# wait's code (0, 5, 124, ...).
set -u
if [ "$#" -lt 5 ]; then
	echo "usage: settle.sh COUNT TIMEOUT_SECONDS INTERVAL TOKEN_ID TOKENCTL [GLOBAL FLAGS...]" >&2
	exit 2
fi
installed=$1
timeout=$2
interval=$3
token=$4
shift 4
count=$installed
end=$(($(date +%s) + timeout))
out=$(mktemp "${TMPDIR:-/tmp}/tokenctl-settle.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT
trap 'rm -f "$out"; trap - EXIT; exit 130' INT
trap 'rm -f "$out"; trap - EXIT; exit 143' TERM
while :; do
	left=$((end - $(date +%s)))
	[ "$left" -ge 1 ] || left=1
	"$@" token wait "$token" --type baremetal --for healthy --count "$count" \
		--wait-timeout "${left}s" --interval "$interval" -o json >"$out"
	rc=$?
	[ "$rc" -eq 5 ] || break
	# Exit 5: too many hosts failed for COUNT (or the token expired). Wait
	# for the others when some are still installing.
	failed=$(grep -c '"result": *"failed"' "$out")
	next=$((installed - failed))
	if [ "$next" -lt 1 ] || [ "$next" -ge "$count" ]; then
		break
	fi
	echo "settle: $failed of $installed host(s) failed; waiting for the other $next" >&2
	count=$next
done
cat "$out"
exit "$rc"
