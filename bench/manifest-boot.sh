#!/usr/bin/env bash
# Benchmark: what a signed manifest adds to a whole agent boot, on loopback, in one run, two ways: `java -jar
# whatami-agent.jar run` (no launcher flags or archive), and as installed: the package's launcher with its boot flags
# and the class cache `whatami-agent cds` built (AppCDS archive on JDK 17-24, AOT cache on 25+), its jar and cache
# paths moved into a scratch directory. whatami-server emulates IMDSv2 and serves a one-line hello.sh
# (frequency=always) from a directory that whatami-server manifest keys/sign made a manifest for; each way is booted
#  (a) none: without a manifest root key,
#  (b) first: with --manifest-root-key, the state forgotten before each run (a first boot: four more requests, two
#      Ed25519 verifications, the state written),
#  (c) later: with --manifest-root-key and the state of the run before (a later boot: two more requests, no
#      verification).
# The modes are interleaved, run by run (after 3 rounds not counted), so drift on a shared machine hits every mode
# alike. Reports per mode the median wall time and the median CPU time (user + system of all the JVM's threads, far
# less disturbed than wall time by other load on the machine), the mean time of the fetch as the agent's own log
# stamps it (from "fetching" to "starting", to the millisecond: the part of the boot a manifest adds to, without the
# JVM's start and exit around it), the differences and the ratios to the boot without a manifest, and the load
# average. BASELINE_JAR=jar adds the same three launcher boots of another build of the agent
# (with its own cache), for a before/after in the same run.
# Usage: [JAVA=/path/to/bin/java] [AGENT_JAR=jar] [BASELINE_JAR=jar] bench/manifest-boot.sh [runs]
#        (JAVA: the agent's JVM, default the java on the PATH; the server runs on that java too)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
[ -f agent-app/target/whatami-agent.jar ] && [ -f server-app/target/whatami-server.jar ] \
    || ./mvnw -B -q -DskipTests package -pl agent-app,server-app -am
jar=${AGENT_JAR:-$(pwd)/agent-app/target/whatami-agent.jar}
java=${JAVA:-$(command -v java)}
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
export WHATAMI_JAVA=$java
# as installed: the launcher a jar carries, its jar and cache paths moved to the jar and $work, its cache built its way
launcher() { # jar, name
    mkdir -p "$work/$2"
    (cd "$work/$2" && unzip -q -o "$1" dev/whatami/agent/install/whatami-agent)
    sed -e "s|^jar=/usr/share/whatami/whatami-agent.jar|jar=$1|" -e "s|^cache=/var/cache/whatami|cache=$work/$2/cache|" \
        "$work/$2/dev/whatami/agent/install/whatami-agent" > "$work/$2/whatami-agent"
    chmod +x "$work/$2/whatami-agent"
    "$work/$2/whatami-agent" cds >/dev/null
    ls "$work/$2"/cache/whatami-agent.* >/dev/null # .jsa (AppCDS) on JDK 17-24, .aot (AOT cache) on 25+
}
args="run --provider ec2 --metadata-endpoint http://127.0.0.1:$port --log-dir $work/log"
root="--manifest-root-key $work/keys/root.pub"
# name, command; a state directory of its own each, made by a boot before the timing ("first" forgets its manifests)
modes=("none" "$java -jar $jar $args" "first" "$java -jar $jar $args $root" "later" "$java -jar $jar $args $root")
launcher "$jar" l
modes+=("l-none" "$work/l/whatami-agent $args" "l-first" "$work/l/whatami-agent $args $root"
    "l-later" "$work/l/whatami-agent $args $root")
if [ -n "${BASELINE_JAR:-}" ]; then
    launcher "$BASELINE_JAR" b
    modes+=("b-none" "$work/b/whatami-agent $args" "b-first" "$work/b/whatami-agent $args $root"
        "b-later" "$work/b/whatami-agent $args $root")
fi
for ((i = 0; i < ${#modes[@]}; i += 2)); do
    ${modes[i + 1]} --state-dir "$work/state-${modes[i]}" >/dev/null 2>"$work/pre.log"
done
grep -q '"version"' "$work/state-first/manifests.json"   # the manifest was verified and recorded
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$work" "$runs" "${modes[@]}" <<'PY'
import datetime, os, subprocess, sys, time, statistics
work, runs, rest = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
modes = [(rest[i], rest[i + 1].split() + ["--state-dir", f"{work}/state-{rest[i]}"]) for i in range(0, len(rest), 2)]
wall = {m: [] for m, _ in modes}
cpu = {m: [] for m, _ in modes}
fetch = {m: [] for m, _ in modes}
for r in range(runs + 3):
    for name, cmd in modes:
        if name.endswith("first"):
            try:
                os.remove(f"{work}/state-{name}/manifests.json")
            except FileNotFoundError:
                pass
        t = time.perf_counter()
        with open(f"{work}/run.log", "wb") as log:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
            _, status, ru = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            sys.exit(f"{name} exited {p.returncode}: {' '.join(cmd)}")
        # the fetch, as the agent's log times it (to the millisecond): from "fetching" to "starting", the part of
        # the boot a manifest adds to, without the JVM's start and exit around it
        stamps = {}
        for line in open(f"{work}/run.log", encoding="utf-8"):
            for key in ("task hello.sh: fetching ", "task hello.sh starting"):
                if key in line and key not in stamps:
                    stamps[key] = datetime.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f")
        if len(stamps) != 2:
            sys.exit(f"{name}: no fetching/starting lines in its log: {' '.join(cmd)}")
        if r >= 3:
            wall[name].append(dt * 1000)
            cpu[name].append((ru.ru_utime + ru.ru_stime) * 1000)
            fetch[name].append((stamps["task hello.sh starting"] - stamps["task hello.sh: fetching "])
                               .total_seconds() * 1000)
with open(f"{work}/results.txt", "w") as out:
    print(f"{runs} runs per mode, interleaved; medians", file=out)
    med = {m: statistics.median(wall[m]) for m in wall}
    mc = {m: statistics.median(cpu[m]) for m in cpu}
    mf = {m: statistics.mean(fetch[m]) for m in fetch}
    for m in wall:
        print(f"{m:8} wall {med[m]:7.1f} ms   cpu {mc[m]:7.1f} ms   fetch (log) mean {mf[m]:5.1f} ms", file=out)
    for p in ("", "l-", "b-"):
        for k in ("first", "later"):
            a, b = p + k, p + "none"
            if a in med:
                print(f"{a:8} - {b:7}: wall {med[a] - med[b]:+6.1f} ms ({med[a] / med[b]:.3f}x), "
                      f"cpu {mc[a] - mc[b]:+6.1f} ms ({mc[a] / mc[b]:.3f}x), "
                      f"fetch (log) {mf[a] - mf[b]:+5.1f} ms", file=out)
PY
echo "date: $(date -u +%Y-%m-%dT%H:%MZ), machine: $(nproc) cores, $("$java" -version 2>&1 | head -1)," \
    "load average before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "java -jar: none, first, later; the launcher and its cache ($(cd "$work/l/cache" && ls)): l-none, l-first, l-later${BASELINE_JAR:+; the launcher of $BASELINE_JAR: b-none, b-first, b-later}"
cat "$work/results.txt"
