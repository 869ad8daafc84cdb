#!/usr/bin/env bash
# Benchmark: the agent's start on JDK 17 and JDK 25, each without and with the class cache the launcher passes —
# AppCDS on 17, the AOT cache on 25 (both built the launcher's way, `whatami-agent cds`) — plus, for comparison,
# JDK 25 with an AppCDS archive (what the launcher did on 25 before it used AOT caches). "Without" is the launcher's
# path when it has no cache: the JDK's own default CDS archive only. Two commands, each through the package's
# launcher (sh, one stat(1), exec java with the boot flags), its paths moved into a scratch directory:
#   version  the cheapest real command (picocli's model, which the training boot does not load);
#   run      a boot, what the cache is trained on: IMDSv2 (required) from whatami-server on loopback, a one-line
#            hello.sh (frequency=always, so every run fetches and runs it).
# Interleaved rounds of hyperfine runs; reports mean, median, min and CPU time, each as a ratio to JDK 17 without
# CDS measured in the same rounds; writes bench/aot-startup.md.
# Usage: bench/aot-startup.sh [runs]   (JDK17=/path/bin/java JDK25=/path/bin/java to choose the JVMs;
#        SKIP_BUILD=1 to use the jars already in */target)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
# shellcheck source=bench/jdk.sh
. bench/jdk.sh
jdk17=${JDK17:-$(find_jdk 17)} || { echo "no JDK 17 under /usr/lib/jvm (set JDK17=)"; exit 2; }
jdk25=${JDK25:-$(find_jdk 25)} || { echo "no JDK 25 under /usr/lib/jvm (set JDK25=)"; exit 2; }
for tool in hyperfine python3; do
    command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install hyperfine python3)"; exit 2; }
done
[ -n "${SKIP_BUILD-}" ] || ./mvnw -B -q -o -DskipTests package -pl agent-app,server-app -am
jar=$(pwd)/agent-app/target/whatami-agent.jar
work=$(mktemp -d /tmp/whatami-aot.XXXXXX)
trap 'kill "${srv:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/www"
printf '#!/bin/sh\necho hello\n' > "$work/www/hello.sh"
port=18200
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
"$jdk17" -jar server-app/target/whatami-server.jar --root "$work/www" --port "$port" --bind 127.0.0.1 \
    --imds-v2-required --metadata-user-data-text "hello.sh 127.0.0.1:$port frequency=always" >"$work/server.log" 2>&1 &
srv=$!
for _ in $(seq 1 100); do grep -q listening "$work/server.log" && break; sleep 0.1; done

# the package's launcher, one copy per JVM and cache directory (`cds` keeps one cache per directory: the machine's JVM)
src=agent-app/src/main/resources/dev/whatami/agent/install/whatami-agent
launcher() { # name java cache-dir
    sed -e "s|^jar=/usr/share/whatami/whatami-agent.jar|jar=$jar|" -e "s|^cache=/var/cache/whatami|cache=$3|" \
        -e "s|^java=\${WHATAMI_JAVA:-/usr/bin/java}|java=$2|" \
        "$src" > "$work/$1"
    chmod +x "$work/$1"
}
launcher jdk17-none "$jdk17" "$work/none"
launcher jdk17-appcds "$jdk17" "$work/cache17"
launcher jdk25-none "$jdk25" "$work/none"
launcher jdk25-aot "$jdk25" "$work/cache25"
"$work/jdk17-appcds" cds >/dev/null
"$work/jdk25-aot" cds >/dev/null
ls "$work"/cache17/whatami-agent.*.jsa "$work"/cache25/whatami-agent.*.aot >/dev/null
# JDK 25 with an AppCDS archive built by the same training (install --cds-only with a .jsa name)
"$jdk25" -jar "$jar" install --cds-only --jar "$jar" --java "$jdk25" --cds-archive "$work/jdk25.jsa" >/dev/null
flags=$(sed -n 's/^flags="\(.*\)"$/\1/p' "$work/jdk25-aot")
props=$(sed -n 's/^props="\(.*\)"$/\1/p' "$work/jdk25-aot")
cat > "$work/jdk25-appcds" <<SH
#!/bin/sh
exec $jdk25 $flags $props -XX:SharedArchiveFile=$work/jdk25.jsa -Xshare:auto '-Xlog:cds*=off' -cp $jar \
    dev.whatami.agent.cli.WhatamiAgent "\$@"
SH
chmod +x "$work/jdk25-appcds"

configs="jdk17-none jdk17-appcds jdk25-none jdk25-aot jdk25-appcds"
# Interleaved: $rounds rounds, each a hyperfine run of $per per configuration in turn, so a change in the machine's
# load (it is shared) falls on every configuration alike rather than on whichever ran then.
per=5
rounds=$(( (runs + per - 1) / per ))
for cmd in version run; do
    for c in $configs; do
        if [ "$cmd" = run ]; then
            line="$work/$c run --provider ec2 --metadata-endpoint http://127.0.0.1:$port --state-dir $work/state-$c"
            line="$line --log-dir $work/log-$c"
        else
            line="$work/$c version"
        fi
        echo "$line" > "$work/$cmd-$c.line"
        $line >/dev/null 2>&1 || { echo "$c $cmd failed: $line"; exit 1; }
    done
    for r in $(seq 1 "$rounds"); do
        for c in $configs; do
            hyperfine -N -w 1 -r "$per" --export-json "$work/$cmd-$c-$r.json" "$(cat "$work/$cmd-$c.line")" \
                >>"$work/hyperfine.log" 2>&1
        done
    done
done
load=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$work" "$jdk17" "$jdk25" "$runs" "$load" <<'PY' > bench/aot-startup.md
import json, platform, subprocess, sys, datetime, os
work, jdk17, jdk25, runs, load = sys.argv[1:6]
def version(java):
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr.splitlines()
    return out[1].strip() if len(out) > 1 else out[0]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
names = {"jdk17-none": "JDK 17, no CDS (JDK's default archive only)", "jdk17-appcds": "JDK 17, AppCDS (the launcher)",
         "jdk25-none": "JDK 25, no cache (JDK's default archive only)", "jdk25-aot": "JDK 25, AOT cache (the launcher)",
         "jdk25-appcds": "JDK 25, AppCDS (for comparison)"}
print("# The agent's start: JDK 17 and 25, with and without the launcher's class cache\n")
print("Made by `bench/aot-startup.sh %s`: hyperfine, %s runs of each configuration, interleaved (rounds of 5 runs "
      "after a warm-up, each configuration in turn); every ratio is to JDK 17 without CDS measured in the same "
      "rounds. CPU is hyperfine's user+system time of the process tree, less disturbed by a loaded machine than "
      "the wall clock." % (runs, runs))
print()
print("- Date: %s" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
print("- Machine: %s, %d cores, Linux %s; load average at the end: %s (other builds share it)" %
      (cpu, os.cpu_count(), platform.release(), load))
print("- JDK 17: `%s` (%s)" % (jdk17, version(jdk17)))
print("- JDK 25: `%s` (%s)" % (jdk25, version(jdk25)))
print("- Flags (all): the launcher's: C1 only, SerialGC, -Xmx128m, no perf data; caches trained by `whatami-agent cds`")
print()
import glob, statistics
for cmd, what in (("version", "`whatami-agent version` (the cheapest real command; the caches are trained on a boot, "
                   "which does not build picocli's model, so they cover only part of it)"),
                  ("run", "`whatami-agent run`, a boot: IMDSv2 on loopback, fetch and run hello.sh (what the "
                   "caches are trained on)")):
    res = {}
    for c in names:
        times, cpu = [], []
        for f in sorted(glob.glob(os.path.join(work, "%s-%s-*.json" % (cmd, c)))):
            r = json.load(open(f))["results"][0]
            times += r["times"]
            cpu.append((r["user"] + r["system"]) * 1000)
        res[c] = {"n": len(times), "mean": statistics.mean(times) * 1000, "sd": statistics.stdev(times) * 1000,
                  "median": statistics.median(times) * 1000, "min": min(times) * 1000, "cpu": statistics.mean(cpu)}
    base = res["jdk17-none"]
    print("## %s\n" % what)
    print("| configuration | runs | mean ms | ± σ | median ms | min ms | CPU ms (user+sys) | × JDK 17 no CDS: median "
          "| min | CPU |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in ("jdk17-none", "jdk17-appcds", "jdk25-none", "jdk25-aot", "jdk25-appcds"):
        r = res[c]
        print("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f |" % (names[c], r["n"], r["mean"],
              r["sd"], r["median"], r["min"], r["cpu"], r["median"] / base["median"], r["min"] / base["min"],
              r["cpu"] / base["cpu"]))
    print()
print("""## Reading it

- The wall clock of a loaded 2-core machine swings by 2x between rounds; min and CPU time are the steadier
  columns, and each configuration ran in every round.
- An AOT cache (JDK 25) maps the classes of the training boot already loaded and linked, with the boot's method
  profiles; an AppCDS archive maps them loaded only. Both are trained on the same boot (`whatami-agent cds`).
- A cache is trained on `run`: other commands (`version`, `status`) get the classes it shares with them, and on
  JDK 25 pay for mapping the whole AOT cache (its classes are loaded at startup, needed or not).
- picocli's classes (class file version 49) cannot be AOT-linked; the boot path does not use picocli's model, the
  other commands do, from the jar.""")
PY
cat bench/aot-startup.md
