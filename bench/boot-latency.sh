#!/usr/bin/env bash
# Benchmark: what the agent adds to a boot. On loopback, in one run, with hyperfine:
#  (a) whatami-agent run, as installed: the package's launcher /usr/bin/whatami-agent — sh, one stat(1),
#      exec java with the boot flags and the AppCDS archive `whatami-agent cds` built for this jar and JVM — with
#      its paths moved into a scratch directory, against whatami-server emulating IMDSv2 (required) with a
#      one-line hello.sh (frequency=always, so every run fetches and runs it);
#  (b) a hello-world `java -jar`;
#  (c) the seed's pipeline: curl the token and the user-data, wget the script, sh it;
#  (d) the floor for this machine, the calibration prototype rebuilt (bench/boot-floor/BootFloor.java):
#      the same flow and nothing else with Apache HttpClient 5 (TLS never initialised), the same JVM flags and
#      its own static AppCDS archive; (e) the same with the JDK's HttpURLConnection;
#  (f) `java -jar whatami-agent.jar run`, no flags and no archive: what people ran before there was a launcher.
# Reports medians, the ratios a/b, a/c, d/b, e/b, a/d and f/a, the agent's peak RSS and the machine's load.
# Usage: bench/boot-latency.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
for tool in hyperfine curl wget /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine curl wget time)"; exit 2; }
done
./mvnw -B -q -DskipTests package -pl agent-app,server-app -am
jar=$(pwd)/agent-app/target/whatami-agent.jar
work=$(mktemp -d /tmp/whatami-boot.XXXXXX)
trap 'kill "${srv:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/www" "$work/hello" "$work/seed"
printf '#!/bin/sh\necho hello\n' > "$work/www/hello.sh"
port=18100
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
java -jar server-app/target/whatami-server.jar --root "$work/www" --port "$port" --bind 127.0.0.1 \
    --imds-v2-required --metadata-user-data-text "hello.sh 127.0.0.1:$port frequency=always" >"$work/server.log" 2>&1 &
srv=$!
for _ in $(seq 1 100); do grep -q listening "$work/server.log" && break; sleep 0.1; done

# (a) as installed: the package's launcher (the jar carries it for install), its jar and archive paths moved to
# the built jar and $work, its archive built the launcher's way (`whatami-agent cds`); JVM: /usr/bin/java as there
(cd "$work" && jar xf "$jar" dev/whatami/agent/install/whatami-agent)
sed -e "s|^jar=/usr/share/whatami/whatami-agent.jar|jar=$jar|" -e "s|^cache=/var/cache/whatami|cache=$work/cache|" \
    "$work/dev/whatami/agent/install/whatami-agent" > "$work/whatami-agent"
chmod +x "$work/whatami-agent"
"$work/whatami-agent" cds >/dev/null
ls "$work"/cache/whatami-agent.* >/dev/null # .jsa (AppCDS) on JDK 17-24, .aot (AOT cache) on 25+
launch="$work/whatami-agent run"
agent="$launch --provider ec2 --metadata-endpoint http://127.0.0.1:$port --state-dir $work/state --log-dir $work/log"
plain="java -jar $jar run --provider ec2 --metadata-endpoint http://127.0.0.1:$port --state-dir $work/state2 --log-dir $work/log2"

# (b) hello world
cat > "$work/hello/Hello.java" <<'JAVA'
public class Hello { public static void main(String[] a) { System.out.println("hello"); } }
JAVA
(cd "$work/hello" && javac Hello.java && printf 'Main-Class: Hello\n' > m && jar cfm hello.jar m Hello.class)
hello="java -jar $work/hello/hello.jar"

# (c) the seed's shell pipeline, IMDSv2 as the agent does it
cat > "$work/seed.sh" <<SH
#!/bin/sh
t=\$(curl -s -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://127.0.0.1:$port/latest/api/token)
set -- \$(curl -s -H "X-aws-ec2-metadata-token: \$t" http://127.0.0.1:$port/latest/user-data)
cd $work/seed && wget -q -O "\$1" "http://\$2/scriptserver/\$1" && sh "./\$1"
SH
chmod +x "$work/seed.sh"

# (d), (e) the floor: the flow alone, with the flags install writes and a static archive of its own
flags=$(sed -n 's/^flags="\(.*\)"$/\1/p' "$work/whatami-agent")
./mvnw -B -q -pl metadata-client dependency:build-classpath -DincludeScope=runtime \
    -Dmdep.outputFile="$work/cp.txt" >/dev/null
javac -nowarn -d "$work/floor" -cp "$(cat "$work/cp.txt")" bench/boot-floor/BootFloor.java
jar cf "$work/floor.jar" -C "$work/floor" .   # CDS archives classes from jars only, not directories
cp="$work/floor.jar:$(cat "$work/cp.txt")"
floor=()
for m in hc5 url; do
    # shellcheck disable=SC2086
    java $flags -Dslf4j.internal.verbosity=ERROR -XX:DumpLoadedClassList="$work/floor-$m.lst" -cp "$cp" BootFloor $m \
        "http://127.0.0.1:$port" >/dev/null
    # shellcheck disable=SC2086
    java $flags -Xshare:dump -XX:SharedClassListFile="$work/floor-$m.lst" -XX:SharedArchiveFile="$work/floor-$m.jsa" \
        -cp "$cp" >/dev/null 2>&1
    floor+=("java $flags -Dslf4j.internal.verbosity=ERROR -XX:SharedArchiveFile=$work/floor-$m.jsa -Xshare:auto -cp $cp BootFloor $m http://127.0.0.1:$port")
done

$agent >/dev/null   # must succeed before it is timed
$plain >/dev/null
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/h.json" "$agent" "$hello" "$work/seed.sh" "${floor[@]}" \
    "$plain" >/dev/null
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
rss=$( { /usr/bin/time -f "%M" $agent >/dev/null; } 2>&1 | tail -1)
python3 - "$work/h.json" "$rss" "$runs" "$load_before" "$load_after" <<'PY'
import json, sys, statistics, datetime, os
r = json.load(open(sys.argv[1]))["results"]
a, b, c, d, e, f = (statistics.median(x["times"]) * 1000 for x in r)
print(f"date: {datetime.datetime.utcnow():%Y-%m-%dT%H:%MZ}, runs: {sys.argv[3]}, cores: {os.cpu_count()}, "
      f"load average before: {sys.argv[4]}, after: {sys.argv[5]}")
print(f"(a) whatami-agent run, the launcher      : median {a:.1f} ms")
print(f"(b) hello-world java -jar                : median {b:.1f} ms")
print(f"(c) curl + wget + sh (the seed)          : median {c:.1f} ms")
print(f"(d) floor: the flow alone, HttpClient 5  : median {d:.1f} ms")
print(f"(e) floor: the flow alone, URLConnection : median {e:.1f} ms")
print(f"(f) java -jar whatami-agent.jar run     : median {f:.1f} ms")
print(f"a/b = {a / b:.2f}   a/c = {a / c:.2f}   d/b = {d / b:.2f}   e/b = {e / b:.2f}   a/d = {a / d:.2f}   f/a = {f / a:.2f}")
print(f"agent peak RSS = {int(sys.argv[2]) / 1024:.0f} MiB")
PY
echo "launcher: $launch (archive: $(ls "$work"/cache))"
