#!/bin/sh
# register-shard.sh: one pod's share of the fleet in the Indexed Job of
# job.yaml (the ConfigMap of configmap.yaml carries this file; keep the two
# the same: a test compares them).
#
# Pod N (JOB_COMPLETION_INDEX=N) takes the hosts on lines N*SHARD_SIZE+1 ..
# (N+1)*SHARD_SIZE of HOSTS_FILE (one host a line: the name it registers with,
# then optionally the ssh destination that reaches it; # starts a comment).
# Of those, hosts SSP already lists are skipped; for the others it ensures a
# baremetal pool token sized to them (tokenctl apply), fetches the install
# script, runs it on each host over ssh (INSTALL_PARALLELISM at once), waits
# once for the shard to become healthy, and deletes the token. Exit 0 when
# every host of the shard is registered and healthy; otherwise 1 (Kubernetes
# retries the pod, which skips the hosts registered by then) after naming the
# hosts that failed.
#
# tokenctl reads its connection from TOKENCTL_SERVER, TOKENCTL_PLATFORM,
# TOKENCTL_USERNAME and TOKENCTL_PASSWORD (the Job takes the credentials from
# a Secret), or from a profile.
set -eu

if [ "${1:-}" = "--install" ]; then
	# --install NAME DESTINATION: run the install script on one host.
	name=$2 dest=$3
	if ssh -i "$HOME/.ssh/id" -o BatchMode=yes -o UserKnownHostsFile="$HOME/.ssh/known_hosts" \
		-o StrictHostKeyChecking=yes -o ConnectTimeout=20 "$dest" \
		"${REMOTE_SHELL:-sudo sh} -s -- --force" <"$TMPDIR/install.sh" >"$TMPDIR/log/$name" 2>&1; then
		: >"$TMPDIR/ok/$name"
	else
		echo "$name: the install script failed (exit $?): $(tail -n 3 "$TMPDIR/log/$name" | tr '\n' ' ')" >&2
	fi
	exit 0
fi

index=${JOB_COMPLETION_INDEX:?JOB_COMPLETION_INDEX is set by Kubernetes in an Indexed Job}
size=${SHARD_SIZE:?SHARD_SIZE: hosts per pod}
hosts_file=${HOSTS_FILE:-/opt/tokenctl-fleet/hosts}
passphrase_file=${PASSPHRASE_FILE:-/var/run/secrets/tokenctl/passphrase}
ssh_dir=${SSH_SECRET_DIR:-/var/run/secrets/ssh}
parallel=${INSTALL_PARALLELISM:-10}
wait_timeout=${WAIT_TIMEOUT:-30m}
wait_interval=${WAIT_INTERVAL:-5s}
prefix=${TOKEN_PREFIX:-tokenctl-k8s}
expiry=${TOKEN_EXPIRY_MINUTES:-60}
TMPDIR=${TMPDIR:-/tmp}
export TMPDIR TOKENCTL_NO_INPUT=true

say() { printf 'shard %s: %s\n' "$index" "$*"; }

first=$((index * size + 1))
last=$((first + size - 1))
grep -v '^[[:space:]]*#' "$hosts_file" | awk 'NF > 0 { print $1, ($2 == "" ? $1 : $2) }' |
	sed -n "${first},${last}p" >"$TMPDIR/shard"
if [ ! -s "$TMPDIR/shard" ]; then
	say "no hosts on lines $first..$last of $hosts_file"
	exit 0
fi

# One query for the shard: its names' servers that are not TERMINATING or
# TERMINATED, with their lcm status.
tokenctl baremetal details --display-name "$(cut -d' ' -f1 "$TMPDIR/shard" | paste -sd, -)" -o json \
	--jq '.[] | select(.state != "TERMINATING" and .state != "TERMINATED") | [.display_name, .id, .lcm_status] | @tsv' \
	>"$TMPDIR/servers"
: >"$TMPDIR/todo"
status=0
while read -r name dest; do
	if awk -F '\t' -v n="$name" '$1 == n && $3 != "FAILED" && $3 != "ABORTED" { found = 1 } END { exit !found }' "$TMPDIR/servers"; then
		continue # registered
	fi
	if awk -F '\t' -v n="$name" '$1 == n { found = 1 } END { exit !found }' "$TMPDIR/servers"; then
		say "$name: its server failed to install ($(awk -F '\t' -v n="$name" '$1 == n { printf "%s %s ", $2, $3 }' "$TMPDIR/servers")): remove it (tokenctl baremetal uninstall ID --force) and run the Job again" >&2
		status=1
		continue
	fi
	echo "$name $dest" >>"$TMPDIR/todo"
done <"$TMPDIR/shard"
count=$(wc -l <"$TMPDIR/todo" | tr -d ' ')
if [ "$count" -eq 0 ]; then
	say "every host is registered"
	exit "$status"
fi

# The pool: one token for the hosts to register, named after them, so a
# retried pod finds its token again and other shards never share it.
pool="$prefix-$index-$(cut -d' ' -f1 "$TMPDIR/todo" | sort | sha1sum | cut -c1-10)"
id=$(printf '{"kind":"BaremetalToken","display_name":"%s","description":"tokenctl Indexed Job shard %s","allowed_instance_count":%s,"min_remaining":%s,"min_lifetime":"%sm","expiry_time_since_creation_mins":%s,"passphrase_file":"%s"}\n' \
	"$pool" "$index" "$count" "$count" "$((expiry / 2))" "$expiry" "$passphrase_file" |
	tokenctl apply -f - --prune -o json --jq '[.[] | select(.kind == "BaremetalToken" and .outcome != "deleted")][0].id')
say "pool $pool ($id) for $count host(s)"

cleanup() {
	rm -f "$TMPDIR/install.sh"
	tokenctl token delete "$id" --type baremetal --yes >/dev/null || say "could not delete token $id: delete it by hand" >&2
}
trap cleanup EXIT

umask 077
if [ -n "${HOST_PASSPHRASE_FILE:-}" ]; then
	tokenctl token status "$id" --type baremetal -o install-script --host-passphrase-file "$HOST_PASSPHRASE_FILE" >"$TMPDIR/install.sh"
else
	tokenctl token status "$id" --type baremetal -o install-script --passphrase-file "$passphrase_file" >"$TMPDIR/install.sh"
fi
mkdir -p "$HOME/.ssh" "$TMPDIR/ok" "$TMPDIR/log"
cp "$ssh_dir/id_ed25519" "$HOME/.ssh/id"
cp "$ssh_dir/known_hosts" "$HOME/.ssh/known_hosts"
chmod 0600 "$HOME/.ssh/id"

xargs -P "$parallel" -n 2 sh "$0" --install <"$TMPDIR/todo"
installed=$(ls "$TMPDIR/ok" | wc -l | tr -d ' ')
[ "$installed" -eq "$count" ] || status=1
if [ "$installed" -eq 0 ]; then
	say "no host installed"
	exit 1
fi

# One wait for the shard: a few list calls a round, whatever its size.
rc=0
tokenctl token wait "$id" --type baremetal --for healthy --count "$installed" \
	--wait-timeout "$wait_timeout" --interval "$wait_interval" -o json \
	--jq '.[] | [.result, .display_name, .lcm_error // ""] | @tsv' >"$TMPDIR/waited" || rc=$?
while IFS="$(printf '\t')" read -r result name err; do
	[ "$result" = reached ] || say "$name: $result${err:+: $err}" >&2
done <"$TMPDIR/waited"
for name in $(ls "$TMPDIR/ok"); do
	grep -q "^reached	$name	" "$TMPDIR/waited" || {
		say "$name: not healthy when the wait ended (exit $rc)" >&2
		status=1
	}
done
say "$(grep -c '^reached' "$TMPDIR/waited" || true) of $count host(s) registered and healthy"
exit "$status"
