#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# podwalld against a scripted Kubernetes API server (apiserver.py) over HTTPS
# with a bearer token: initial sync and readiness, policies through watch
# events, and faults (disconnects, 410 Gone, 5xx/429 storms, malformed and
# over-long event lines, token rotation). After every step the daemon's
# compiled state must equal a fresh offline compile of the fixture's objects
# (k8s_compiled), compared as history-independent documents. PW_DAEMON_WRAP
# prefixes the daemon command (e.g. "valgrind --leak-check=full"); V=1: logs.
# Root (the daemon opens the real datapath); runs in a private world.
set -u

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root"
	exit 0
fi
for t in python3 openssl curl jq socat unshare; do
	if ! command -v "$t" >/dev/null; then
		echo "1..0 # SKIP $t not installed"
		exit 0
	fi
done
: "${PODWALLD:?}" "${PODWALLCTL:?}" "${K8S_COMPILED:?}" "${FIXTURE:?}"

if [ -z "${PW_K8S_TEST_WORLD:-}" ]; then
	exec env PW_K8S_TEST_WORLD=1 unshare -n -m --propagation private "$0" "$@"
fi

TMP=$(mktemp -d /tmp/pw-k8s-test.XXXXXX)
PIN=/sys/fs/bpf/podwall-k8s-test
SOCK=$TMP/podwalld.sock
LOG=$TMP/podwalld.log
NODE=pwk-node
DPID=
FPID=
FPID2=
export PODWALL_SOCKET=$SOCK

cleanup() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null
	[ -n "$FPID2" ] && kill "$FPID2" 2>/dev/null
	wait 2>/dev/null
	umount /sys/fs/bpf 2>/dev/null
	if [ "${V:-0}" = 1 ] && [ -f "$LOG" ]; then grep -v "^libbpf" "$LOG" | sed "s/^/# log: /"; fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mount -t bpf bpf /sys/fs/bpf || { echo "1..0 # SKIP cannot mount bpffs"; exit 0; }
ip link set lo up

NTESTS=0
NFAIL=0
ok() { NTESTS=$((NTESTS + 1)); echo "ok $NTESTS - $1"; }
fail() {
	NTESTS=$((NTESTS + 1)); NFAIL=$((NFAIL + 1))
	echo "not ok $NTESTS - $1"
	[ -f "$LOG" ] && grep -v '^libbpf' "$LOG" | tail -n 15 | sed 's/^/#   /'
}
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
diag() { echo "# $*"; }

# ---- certificates and the fixture ---------------------------------------

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pw-test-ca \
	-keyout "$TMP/ca.key" -out "$TMP/ca.pem" 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout "$TMP/srv.key" -out "$TMP/srv.csr" 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1\n' >"$TMP/ext" &&
	openssl x509 -req -in "$TMP/srv.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" \
		-CAcreateserial -days 2 -extfile "$TMP/ext" -out "$TMP/srv.pem" 2>/dev/null ||
	{ echo "1..0 # SKIP openssl could not make test certificates"; exit 0; }

ns() { printf '{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"%s","labels":{"kubernetes.io/metadata.name":"%s","team":"%s"}}}' "$1" "$1" "$2"; }
pod() { # name ns app node ip
	printf '{"kind":"Pod","apiVersion":"v1","metadata":{"name":"%s","namespace":"%s","labels":{"app":"%s"}},"spec":{"nodeName":"%s","containers":[{"name":"c","ports":[{"name":"http","containerPort":8080}]}]},"status":{"podIPs":[{"ip":"%s"}]}}' "$@"
}
# np name ns selector-app from-app port
np() {
	printf '{"kind":"NetworkPolicy","apiVersion":"networking.k8s.io/v1","metadata":{"name":"%s","namespace":"%s"},"spec":{"podSelector":{"matchLabels":{"app":"%s"}},"policyTypes":["Ingress"],"ingress":[{"from":[{"podSelector":{"matchLabels":{"app":"%s"}}}],"ports":[{"protocol":"TCP","port":%s}]}]}}' "$@"
}

{
	echo '{"kind":"List","items":['
	ns default blue; echo ,; ns prod red; echo ,
	pod a default web $NODE 10.77.0.1; echo ,
	pod b default db $NODE 10.77.0.2; echo ,
	pod c prod web other-node 10.77.1.3; echo ,
	# Enough pods that the lists are paginated (the client asks for 500 a page).
	for i in $(seq 1 520); do
		pod "p$i" prod "batch$((i % 7))" other-node "10.78.$((i / 250)).$((i % 250 + 1))"
		echo ,
	done
	np db-from-web default db web 5432
	echo ']}'
} >"$TMP/objects.json"

echo fixture-token-1 >"$TMP/token"
python3 "$FIXTURE" --port-file "$TMP/port" --control-port-file "$TMP/cport" \
	--cert "$TMP/srv.pem" --key "$TMP/srv.key" --token fixture-token-1 \
	--objects "$TMP/objects.json" 2>"$TMP/fixture.log" &
FPID=$!
for _ in $(seq 100); do [ -s "$TMP/port" ] && [ -s "$TMP/cport" ] && break; sleep 0.05; done
PORT=$(cat "$TMP/port")
CTL=http://127.0.0.1:$(cat "$TMP/cport")/_fixture

fx() { curl -sf -X POST --data-binary @- "$CTL/$1" >/dev/null; }
fx_apply() { fx apply; }
fx_delete() { printf '{"kind":"%s","namespace":"%s","name":"%s"}' "$@" | fx delete; }
fx_fault() { printf '{"fault":"%s","resource":"%s"}' "$1" "${2:-*}" | fx fault; }
fx_stat() { curl -sf "$CTL/stats" | jq -r --arg k "$1" '.[$k] // 0'; }

start_daemon() {
	${PW_DAEMON_WRAP:-} "$PODWALLD" -v --api-server "https://127.0.0.1:$PORT" \
		--token-file "$TMP/token" --ca-file "$TMP/ca.pem" --watch-timeout 2 \
		--node-name $NODE --pin-root "$PIN" --socket "$SOCK" \
		--queue-dir "$TMP/queue" --state-dir "$TMP/state" >>"$LOG" 2>&1 &
	DPID=$!
}

status_json() { "$PODWALLCTL" status -j 2>/dev/null; }
k8s_field() { status_json | jq -r ".k8s.$1.$2"; }
sum_field() { status_json | jq "[.k8s[].$1] | add"; }

wait_ready() {
	for _ in $(seq 300); do
		[ "$(status_json | jq -r .ready)" = true ] && return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# The daemon's compiled state, and a fresh compile of the fixture's objects.
daemon_compiled() {
	echo '{"cmd":"compiled"}' | socat -t 5 - "UNIX-CONNECT:$SOCK" | jq -cS .compiled
}
fresh_compiled() {
	curl -sf "$CTL/dump" >"$TMP/dump.json" &&
		"$K8S_COMPILED" $NODE "$TMP/dump.json" 2>/dev/null | jq -cS .
}

# Bounded wait until both agree (and the fixture has nothing left to deliver).
converged() {
	local want got
	for _ in $(seq 200); do
		want=$(fresh_compiled)
		got=$(daemon_compiled)
		[ -n "$want" ] && [ "$want" = "$got" ] && return 0
		sleep 0.1
	done
	diag "not converged after 20 s"
	diff <(echo "$want" | jq .) <(echo "$got" | jq .) | head -20 | sed 's/^/#   /'
	return 1
}

# Bounded wait for a condition (the daemon catches up asynchronously).
wait_for() {
	for _ in $(seq 100); do
		eval "$1" && return 0
		sleep 0.1
	done
	return 1
}

# Bounded wait until every watch works again (each delivered a bookmark since the
# call): faults back to back would otherwise stack relist backoffs (by design).
settle() {
	local b0
	b0=$(status_json | jq -c '[.k8s[].bookmarks]')
	for _ in $(seq 300); do
		status_json | jq -e --argjson b0 "$b0" \
			'[.k8s[]] as $r | [range(3) as $i | ($r[$i].bookmarks > $b0[$i]) and
			 ($r[$i].state == "watching")] | all' >/dev/null && return 0
		sleep 0.1
	done
	diag "watches did not settle: $(status_json | jq -c '[.k8s[] | .state]')"
	return 1
}

# Entries of endpoint ns/name in the daemon's compiled state.
entries() { daemon_compiled | jq -r --arg k "$1" '.endpoints[$k].entries[]?'; }
allows_from() { entries "$1" | grep -q "peer $2 .*allow"; }

# ---- initial sync -------------------------------------------------------

t0=$(date +%s%N)
start_daemon
check "podwalld lists all three resources over HTTPS and reports ready" wait_ready
diag "initial sync (about $(wc -c <"$TMP/objects.json") bytes, 525 pods): $((($(date +%s%N) - t0) / 1000000)) ms"
check "status: every resource synced with a resourceVersion" eval \
	'status_json | jq -e "[.k8s[] | .synced and (.resourceVersion | length > 0)] | all" >/dev/null'
check "status: source is the API server" eval \
	'status_json | jq -e ".source | startswith(\"api:https://127.0.0.1\")" >/dev/null'
check "lists were paginated (limit/continue)" eval '[ "$(fx_stat "pods list")" -ge 2 ]'
check "initial state equals a fresh compile" converged
check "db-from-web: a's pods may reach b on 5432" eval \
	'entries default/b | grep -q "ingress proto 6 port 0 peer default.*app=web.*5432-5432 allow"'

# ---- policies through watch events ---------------------------------------

np web-from-db default web db 80 | fx_apply
check "a policy ADDED through the watch isolates a" eval \
	'converged && entries default/a | grep -q "flags 1"'
np web-from-db default web db 8080 | fx_apply
check "a policy MODIFIED through the watch changes the port" eval \
	'converged && entries default/a | grep -q "8080-8080 allow" && ! entries default/a | grep -q " 80-80 allow"'
fx_delete NetworkPolicy default web-from-db
check "a policy DELETED through the watch opens a again" eval \
	'converged && ! entries default/a | grep -q "flags 1"'
ns prod green | fx_apply
pod c prod db other-node 10.77.1.3 | fx_apply
check "Namespace and Pod changes through the watch" converged

# ---- faults ---------------------------------------------------------------

w0=$(sum_field watches)
e0=$(sum_field errors)
fx_fault disconnect pods
pod d default web other-node 10.77.0.9 | fx_apply
check "disconnect mid-event: watch resumes, converges" converged
check "  ... by re-watching from the last resourceVersion, no relist" eval \
	'[ "$(sum_field watches)" -gt "$w0" ] && [ "$(k8s_field pods relists)" = 0 ]'

r0=$(k8s_field networkpolicies relists)
fx_fault error410 networkpolicies
np d-only default web db 443 | fx_apply
check "ERROR event 410 during the watch: relist, converges" converged
check "  ... it was a relist" wait_for '[ "$(k8s_field networkpolicies relists)" -gt "$r0" ]'

# Compaction ends every stream: re-watching from an old resourceVersion is 410 Gone.
rl() { status_json | jq -c '[.k8s[].relists]'; }
r0=$(rl)
fx_delete NetworkPolicy default d-only
curl -sf -X POST "$CTL/compact" >/dev/null
check "410 Gone on re-watch after compaction: relist, converges" converged
all_relisted() {
	jq -en --argjson a "$r0" --argjson b "$(rl)" '[range(3) as $i | $b[$i] > $a[$i]] | all' \
		>/dev/null
}
check "  ... every resource relisted" wait_for all_relisted

e0=$(sum_field errors)
printf '{"count":4,"code":503}' | fx http_errors
printf '{"count":2,"code":429}' | fx http_errors
fx_fault disconnect
np storm default db web 9999 | fx_apply
check "5xx/429 storm: backoff, retries, converges" converged
check "  ... through errors" eval '[ "$(sum_field errors)" -ge $((e0 + 6)) ] && [ "$(fx_stat "injected 503")" -ge 4 ]'

# Retry-After on a 429 (and a 503) is honored: the next request of that resource
# comes no sooner than the server asked, where our own backoff would be 200-400 ms.
settle
retry_gap() { # retry_gap CODE: seconds from the injected CODE to that resource's next request
	curl -sf "$CTL/requests" | jq --argjson c "$1" '
		(map(.code == $c) | rindex(true)) as $i | .[$i] as $e |
		[.[$i + 1:][] | select(.resource == $e.resource)][0].t - $e.t'
}
for code in 429 503; do
	printf '{"count":1,"code":%s,"retry_after":2}' $code | fx http_errors
	fx_fault disconnect pods
	pod e default db other-node 10.77.0.1$((code % 10)) | fx_apply
	check "HTTP $code with Retry-After: 2: converges" converged
	# The error may have hit a resource with nothing to deliver (a re-watch after
	# timeoutSeconds): its retry can come after convergence.
	wait_for '[ "$(retry_gap '$code')" != null ]'
	gap=$(retry_gap $code)
	diag "next request $gap s after the $code"
	check "  ... the retry waited at least the 2 s asked" eval \
		"awk -v g='$gap' 'BEGIN { exit !(g != \"\" && g != \"null\" && g >= 1.95) }'"
	check "  ... and the status names the $code" eval \
		"status_json | jq -r '[.k8s[].last_error] | join(\" \")' | grep -q 'HTTP $code'"
	settle
done

r0=$(k8s_field pods relists)
fx_fault garbage pods
pod e default web other-node 10.77.0.10 | fx_apply
check "garbage event line: relist, converges" converged
check "  ... it was a relist" wait_for '[ "$(k8s_field pods relists)" -gt "$r0" ]'

# A server that answers every new watch with garbage is relisted with a growing
# backoff, not hammered. A relist is counted when its garbage arrives, before
# its backoff; the first may come at once (the stream it ends had delivered
# data): so the fifth is counted after the backoffs of the second, third and
# fourth, at least 100+200+400 ms (equal jitter). Without backoff, five lists
# of 525 pods take a small fraction of that.
r0=$(k8s_field pods relists)
t0=$(date +%s%N)
for _ in 1 2 3 4 5; do fx_fault garbage pods; done
pod e default db other-node 10.77.0.10 | fx_apply
check "garbage on every watch: relists back off" eval \
	'wait_for "[ \$(k8s_field pods relists) -ge $((r0 + 5)) ]" && converged'
ms=$((($(date +%s%N) - t0) / 1000000))
diag "5 garbage relists took $ms ms"
check "  ... at least 0.7 s for the five relists" eval '[ "$ms" -ge 700 ]'
settle

r0=$(k8s_field pods relists)
fx_fault hugeline pods
pod e default web other-node 10.77.0.10 | fx_apply
check "event line over 8 MiB: relist, converges" converged
check "  ... it was a relist" wait_for '[ "$(k8s_field pods relists)" -gt "$r0" ]'
settle

# A relist whose continue token expires between pages starts the list over.
r0=$(fx_stat 410)
fx_fault expire_continue pods
fx_fault error410 pods
pod e default db other-node 10.77.0.10 | fx_apply
check "continue token expired mid-list (410): list starts over, converges" converged
check "  ... through a 410 on the continue request" wait_for '[ "$(fx_stat 410)" -gt "$r0" ]'
settle

# timeoutSeconds (2 s here) ends watches cleanly: re-watched without errors or relists.
w0=$(sum_field watches)
e0=$(sum_field errors)
rl0=$(sum_field relists)
sleep 4.5
check "watches end after timeoutSeconds and are re-established, no errors, no relists" eval \
	'[ "$(sum_field watches)" -ge $((w0 + 3)) ] && [ "$(sum_field errors)" = "$e0" ] && [ "$(sum_field relists)" = "$rl0" ]'

fx_fault slow networkpolicies
np slow default db web 7000 | fx_apply
check "an event dribbled in 7-byte chunks: converges" converged

# A policy the compiler rejects is skipped (the previous version stays) and
# named in last_error; its fix through the next event converges.
printf '{"kind":"NetworkPolicy","apiVersion":"networking.k8s.io/v1","metadata":{"name":"slow","namespace":"default"},"spec":{"podSelector":{"matchLabels":{"app":"db"}},"ingress":[{"ports":[{"protocol":"TCP","port":"not-a-port-name-that-is-way-too-long"}]}]}}' | fx_apply
sleep 0.5
check "malformed object: skipped with a message naming it" eval \
	'status_json | jq -r .last_error | grep -q "default/slow" && entries default/b | grep -q "7000-7000 allow"'
np slow default db web 7001 | fx_apply
check "  ... its fix converges" converged

# Token rotation: the server takes a new token and cuts the streams; the
# daemon gets 401 until the token file changes on disk.
u0=$(fx_stat 401)
printf '{"token":"fixture-token-2"}' | fx token
np rotated default db web 6000 | fx_apply
sleep 1
echo fixture-token-2 >"$TMP/token.new" && mv "$TMP/token.new" "$TMP/token"
check "token rotation: 401 until the file changes, then converges" converged
check "  ... through 401s" eval '[ "$(fx_stat 401)" -gt "$u0" ]'

all_watching() { status_json | jq -e '.ready and ([.k8s[].state == "watching"] | all)' >/dev/null; }
wait_for all_watching || diag "states: $(status_json | jq -c '[.k8s[] | [.state, .last_error]]')"
check "after the faults: ready, every resource watching" all_watching

# ---- readiness --------------------------------------------------------------

kill "$DPID"; wait "$DPID" 2>/dev/null; DPID=
echo wrong-token >"$TMP/token"
start_daemon
for _ in $(seq 300); do status_json >/dev/null && break; sleep 0.1; done
check "  ... the API error is in the status" wait_for \
	'status_json | jq -r ".k8s.pods.last_error" | grep -q 401'
check "restart with a bad token: not ready, reason initial sync" eval \
	'status_json | jq -e ".ready == false and .reason == \"initial sync\"" >/dev/null'
# The kubelet's view: podwalld's HTTP endpoint (default 127.0.0.1:9464, this world's own).
readyz() { curl -s -o "$TMP/readyz" -w '%{http_code}' http://127.0.0.1:9464/readyz; }
check "  ... /readyz answers 503 during the initial sync, /healthz 200" eval \
	'[ "$(readyz)" = 503 ] && [ "$(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:9464/healthz)" = 200 ]'
diag "/readyz: $(cat "$TMP/readyz" 2>/dev/null)"
echo fixture-token-2 >"$TMP/token.new" && mv "$TMP/token.new" "$TMP/token"
check "  ... the token fixed: ready, converged" eval 'wait_ready && converged'
check "  ... /readyz answers 200" eval '[ "$(readyz)" = 200 ]'

# ---- a kubeconfig (CA data inline, tokenFile relative to it) ---------------

kill "$DPID"; wait "$DPID" 2>/dev/null; DPID=
cat >"$TMP/kubeconfig" <<EOF
apiVersion: v1
kind: Config
current-context: fixture
clusters:
- name: fixture
  cluster:
    server: https://127.0.0.1:$PORT/
    certificate-authority-data: $(base64 -w0 "$TMP/ca.pem")
contexts:
- name: fixture
  context: {cluster: fixture, user: podwall}
users:
- name: podwall
  user: {tokenFile: token}
EOF
${PW_DAEMON_WRAP:-} "$PODWALLD" -v --kubeconfig "$TMP/kubeconfig" --node-name $NODE \
	--pin-root "$PIN" --socket "$SOCK" --queue-dir "$TMP/queue" --state-dir "$TMP/state" \
	>>"$LOG" 2>&1 &
DPID=$!
check "--kubeconfig (inline CA, relative tokenFile): ready, converged" eval 'wait_ready && converged'
check "  ... source names the kubeconfig" eval \
	'status_json | jq -e ".source == \"kubeconfig:$TMP/kubeconfig\"" >/dev/null'

# ---- in-cluster: a service-account directory laid out as kubelet projects it ----

# token and ca.crt are symlinks into ..data, itself a symlink swapped on rotation.
kill "$DPID"; wait "$DPID" 2>/dev/null; DPID=
SA=$TMP/serviceaccount
sa_rotate() { # sa_rotate TOKEN: a new timestamped dir, ..data swapped atomically
	local d=..$(date +%s%N)
	mkdir -p "$SA/$d" && cp "$TMP/ca.pem" "$SA/$d/ca.crt" && echo "$1" >"$SA/$d/token" &&
		ln -sfn "$d" "$SA/..data.new" && mv -T "$SA/..data.new" "$SA/..data"
}
mkdir -p "$SA" && sa_rotate fixture-token-2 && ln -s ..data/token "$SA/token" &&
	ln -s ..data/ca.crt "$SA/ca.crt"
KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT=$PORT PODWALL_SERVICEACCOUNT_DIR=$SA \
	${PW_DAEMON_WRAP:-} "$PODWALLD" -v --node-name $NODE --pin-root "$PIN" --socket "$SOCK" \
	--queue-dir "$TMP/queue" --state-dir "$TMP/state" --watch-timeout 2 >>"$LOG" 2>&1 &
DPID=$!
check "in-cluster (KUBERNETES_SERVICE_HOST set, no source flag): ready, converged" eval \
	'wait_ready && converged'
check "  ... source is the in-cluster service account" eval \
	'status_json | jq -e ".source | test(\"cluster\")" >/dev/null'
printf '{"token":"fixture-token-3"}' | fx token
np sa-rotated default db web 6001 | fx_apply
sleep 0.5
sa_rotate fixture-token-3
check "service-account token rotated by a ..data swap: re-read, converges" converged

# ---- a kubeconfig with a client certificate; the server requires and verifies it ----

kill "$DPID"; wait "$DPID" 2>/dev/null; DPID=
openssl req -newkey rsa:2048 -nodes -subj "/CN=system:node:$NODE/O=system:nodes" \
	-keyout "$TMP/client.key" -out "$TMP/client.csr" 2>/dev/null &&
	printf 'extendedKeyUsage=clientAuth\n' >"$TMP/client.ext" &&
	openssl x509 -req -in "$TMP/client.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" \
		-CAcreateserial -days 2 -extfile "$TMP/client.ext" -out "$TMP/client.pem" 2>/dev/null
# A second server holding the same objects, with client-certificate auth and no token.
curl -sf "$CTL/dump" >"$TMP/objects2.json"
python3 "$FIXTURE" --port-file "$TMP/port2" --control-port-file "$TMP/cport2" \
	--cert "$TMP/srv.pem" --key "$TMP/srv.key" --client-ca "$TMP/ca.pem" --token "" \
	--objects "$TMP/objects2.json" 2>"$TMP/fixture2.log" &
FPID2=$!
for _ in $(seq 100); do [ -s "$TMP/port2" ] && [ -s "$TMP/cport2" ] && break; sleep 0.05; done
PORT2=$(cat "$TMP/port2")
kubeconfig_cert() { # kubeconfig_cert FILE [with-cert]
	local user='{}'
	[ -n "${2:-}" ] &&
		user="{client-certificate: client.pem, client-key-data: $(base64 -w0 "$TMP/client.key")}"
	printf '%s\n' "apiVersion: v1" "kind: Config" "current-context: node" "clusters:" \
		"- name: c" "  cluster: {server: \"https://127.0.0.1:$PORT2\", certificate-authority: ca.pem}" \
		"contexts:" "- name: node" "  context: {cluster: c, user: node}" \
		"users:" "- name: node" "  user: $user" >"$1"
}
kubeconfig_cert "$TMP/kubeconfig-nocert"
${PW_DAEMON_WRAP:-} "$PODWALLD" -v --kubeconfig "$TMP/kubeconfig-nocert" --node-name $NODE \
	--pin-root "$PIN" --socket "$SOCK" --queue-dir "$TMP/queue" --state-dir "$TMP/state" \
	>>"$LOG" 2>&1 &
DPID=$!
check "client-cert server, kubeconfig without a certificate: refused, not ready" wait_for \
	'[ "$(status_json | jq -r ".k8s.pods.last_error")" != null ] && [ "$(status_json | jq -r ".ready")" = false ]'
diag "without a certificate: $(status_json | jq -r .k8s.pods.last_error)"
kill "$DPID"; wait "$DPID" 2>/dev/null; DPID=
kubeconfig_cert "$TMP/kubeconfig-cert" yes
${PW_DAEMON_WRAP:-} "$PODWALLD" -v --kubeconfig "$TMP/kubeconfig-cert" --node-name $NODE \
	--pin-root "$PIN" --socket "$SOCK" --queue-dir "$TMP/queue" --state-dir "$TMP/state" \
	>>"$LOG" 2>&1 &
DPID=$!
CTL1=$CTL
CTL=http://127.0.0.1:$(cat "$TMP/cport2")/_fixture
check "kubeconfig with client-certificate (file) and client-key-data: ready, converged" eval \
	'wait_ready && converged'
np cert-watch default db web 6002 | fx_apply
check "  ... and follows its watches" converged
CTL=$CTL1

kill "$DPID"; wait "$DPID" 2>/dev/null; DPID=
kill "$FPID2" 2>/dev/null; wait "$FPID2" 2>/dev/null; FPID2=
check "podwalld stops cleanly on SIGTERM" true
echo "1..$NTESTS"
[ "$NFAIL" = 0 ]
