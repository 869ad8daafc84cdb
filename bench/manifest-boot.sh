#!/usr/bin/env bash
# Benchmark: what a signed manifest adds to a whole agent boot (`java -jar whatami-agent.jar run`, no launcher
# flags or archive), on loopback, in one run, with hyperfine: whatami-server emulating IMDSv2 and serving a one-line
# hello.sh (frequency=always) from a directory that whatami-server manifest keys/sign made a manifest for, booted
#  (a) without a manifest root key,
#  (b) with --manifest-root-key, the state forgotten before each run (a first boot: four more requests, two Ed25519
#      verifications, the state written),
#  (c) with --manifest-root-key and the state of the run before (a later boot: two more requests, no verification).
# Reports hyperfine's wall medians and mean CPU (user + system: all the JVM's threads, far less disturbed than wall time
# by other load on the machine), and the differences. Usage: bench/manifest-boot.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)"; exit 2; }
[ -f agent-app/target/whatami-agent.jar ] && [ -f server-app/target/whatami-server.jar ] \
    || ./mvnw -B -q -DskipTests package -pl agent-app,server-app -am
jar=$(pwd)/agent-app/target/whatami-agent.jar
server="java -jar $(pwd)/server-app/target/whatami-server.jar"
work=$(mktemp -d /tmp/whatami-manifest-boot.XXXXXX)
trap 'kill "${srv:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/www" "$work/keys"
printf '#!/bin/sh\necho hello\n' > "$work/www/hello.sh"
$server manifest keygen --out "$work/keys" --name root >/dev/null
$server manifest keygen --out "$work/keys" --name signing >/dev/null
$server manifest keys --root-key "$work/keys/root.key" --signing-key "$work/keys/signing.pub" --out "$work/www" >/dev/null
$server manifest sign --key "$work/keys/signing.key" --dir "$work/www" --name bench >/dev/null
chmod 700 "$work/keys"
port=18200
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
$server --root "$work/www" --port "$port" --bind 127.0.0.1 --imds-v2-required \
    --metadata-user-data-text "hello.sh 127.0.0.1:$port frequency=always" >"$work/server.log" 2>&1 &
srv=$!
for _ in $(seq 1 100); do grep -q listening "$work/server.log" && break; sleep 0.1; done
run="java -jar $jar run --provider ec2 --metadata-endpoint http://127.0.0.1:$port --log-dir $work/log"
$run --state-dir "$work/s1" >/dev/null
$run --state-dir "$work/s3" --manifest-root-key "$work/keys/root.pub" >/dev/null
grep -q '"version"' "$work/s3/manifests.json"   # the manifest was verified and recorded
hyperfine -N -w 3 -r "$runs" --export-json "$work/h.json" \
    -n none "$run --state-dir $work/s1" \
    -n first --prepare "rm -f $work/s2/manifests.json" "$run --state-dir $work/s2 --manifest-root-key $work/keys/root.pub" \
    -n later "$run --state-dir $work/s3 --manifest-root-key $work/keys/root.pub" >/dev/null
echo "machine: $(nproc) cores, $(java -version 2>&1 | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$work/h.json" "$runs" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
med = {x["command"]: sorted(x["times"])[len(x["times"]) // 2] * 1000 for x in res}
cpu = {x["command"]: (x["user"] + x["system"]) * 1000 for x in res}
print(f"{sys.argv[2]} runs each")
for k in med:
    print(f"{k:6} wall median {med[k]:7.1f} ms   cpu mean {cpu[k]:7.1f} ms")
for k in ("first", "later"):
    print(f"{k} boot - none: wall {med[k] - med['none']:+.1f} ms, cpu {cpu[k] - cpu['none']:+.1f} ms")
PY
