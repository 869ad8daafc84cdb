#!/usr/bin/env bash
# Benchmark: what the agent adds to a boot, on JDK 17 and JDK 25, against cloud-init doing the same job. On loopback,
# in one run (every command below in every round of hyperfine runs, interleaved), with hyperfine:
#  (a) whatami-agent run, as installed: the package's launcher /usr/bin/whatami-agent — sh, one stat(1),
#      exec java with the boot flags and the class cache `whatami-agent cds` built for this jar and JVM — with
#      its paths moved into a scratch directory, against whatami-server emulating IMDSv2 (required) with a
#      one-line hello.sh (frequency=always, so every run fetches and runs it); on /usr/bin/java (JDK 17: AppCDS)
#      and (a25) on JDK 25 (the launcher then builds and passes an AOT cache);
#  (b) a hello-world `java -jar`, (b25) the same on JDK 25;
#  (c) the seed's pipeline: curl the token and the user-data, wget the script, sh it;
#  (d) the floor for this machine, the calibration prototype rebuilt (bench/boot-floor/BootFloor.java):
#      the same flow and nothing else with Apache HttpClient 5 (TLS never initialised), the same JVM flags and
#      its own static AppCDS archive; (e) the same with the JDK's HttpURLConnection; (d25) (d) on JDK 25 with
#      an AOT cache of its own, trained on its own boot;
#  (f) `java -jar whatami-agent.jar run`, no flags and no archive: what people ran before there was a launcher;
#  (g) cloud-init as Debian 13 boots it, end to end: Debian 13's cloud-init package (25.1) in a chroot, NoCloud
#      seeded over http from the same whatami-server, user-data `#include` of the same hello.sh, which it fetches
#      and runs. Its state (/var/lib/cloud, /run/cloud-init, logs) is removed before each run. Debian 13 boots
#      cloud-init as one process (cloud-init-main.service: `cloud-init --all-stages`) that each stage's unit
#      starts over a Unix socket; here the units' own command (nc -Uu … | sh) starts the four stages in turn.
#      (h) the same four stages as four processes (init --local, init, modules config, modules final), as before
#      cloud-init 24.3. Every run of (g) and (h) must print hello.sh's output and record no error nor warning, or
#      it fails. Debian's configuration, less growpart and resizefs (the chroot's disk is the host's) and host keys
#      (no sshd in the chroot): network configuration off, NoCloud the only datasource.
# Everything runs in a network namespace of its own with only the loopback interface up (unshare -n), and a UTS and
# mount namespace: cloud-init can reach no other address, nor set the host's hostname; the chroot gets its own
# proc, a read-only sysfs of the namespace, a /dev with only null, zero, full, random, urandom and tty, a tmpfs /run.
# The chroot (debootstrap --variant=minbase trixie, with cloud-init, curl and iproute2) is kept in
# /var/cache/whatami-bench/trixie (TRIXIE_ROOT= to move it) and built when absent. Needs root (chroot, namespaces).
# Reports medians (and minimums), the ratios a/b, a/c, d/b, e/b, a/d, f/a, a25/d25, g/a, g/a25, h/a, h/a25, the
# agent's peak RSS (JDK 17 and 25) and the machine's load.
# Usage: bench/boot-latency.sh [runs]   (JDK25=/path/bin/java to choose the JDK 25; KEEP=dir to keep hyperfine's
#        JSON and cloud-init's log of its last run there)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
root=${TRIXIE_ROOT:-/var/cache/whatami-bench/trixie}
# shellcheck source=bench/jdk.sh
. bench/jdk.sh
jdk17=/usr/bin/java
jdk25=${JDK25:-$(find_jdk 25)} || { echo "no JDK 25 under /usr/lib/jvm (set JDK25=)"; exit 2; }
if [ -z "${WHATAMI_BENCH_NETNS-}" ]; then
    [ "$(id -u)" = 0 ] || { echo "needs root: chroot and namespaces"; exit 2; }
    for tool in hyperfine curl wget /usr/bin/time unshare ip python3; do
        command -v "$tool" >/dev/null \
            || { echo "needs $tool (apt-get install hyperfine curl wget time iproute2)"; exit 2; }
    done
    if [ ! -x "$root/usr/bin/cloud-init" ] || [ ! -x "$root/usr/bin/ip" ]; then
        command -v debootstrap >/dev/null || { echo "needs debootstrap (apt-get install debootstrap)"; exit 2; }
        # python3-cffi-backend named: debootstrap does not resolve the virtual package python3-cryptography needs;
        # iproute2 as on Debian's cloud images (cloud-init logs the interfaces and routes with ip)
        rm -rf "$root.part" && mkdir -p "$(dirname "$root")"
        debootstrap --variant=minbase --include=cloud-init,curl,python3-cffi-backend,iproute2 trixie "$root.part" \
            http://deb.debian.org/debian
        rm -rf "$root" && mv "$root.part" "$root"
    fi
    ./mvnw -B -q -o -DskipTests package -pl agent-app,server-app -am
    # the rest in namespaces of its own: only loopback, its own hostname and mounts
    exec env WHATAMI_BENCH_NETNS=1 unshare --net --uts --mount --propagation private "$0" "$@"
fi
ip link set lo up
jar=$(pwd)/agent-app/target/whatami-agent.jar
work=$(mktemp -d /tmp/whatami-boot.XXXXXX)
trap 'kill "${srv:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/www" "$work/hello" "$work/seed"
printf '#!/bin/sh\necho hello\n' > "$work/www/hello.sh"
port=18100
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
# NoCloud's seed beside it: cloud-init reads meta-data, user-data and vendor-data from /scriptserver/
printf 'instance-id: whatami-bench\nlocal-hostname: whatami-bench\n' > "$work/www/meta-data"
printf '#include\nhttp://127.0.0.1:%s/scriptserver/hello.sh\n' "$port" > "$work/www/user-data"
: > "$work/www/vendor-data"
printf 'version: 2\n' > "$work/www/network-config"   # not used (network config is off), but it retries a 404 for 10 s
java -jar server-app/target/whatami-server.jar --root "$work/www" --port "$port" --bind 127.0.0.1 \
    --imds-v2-required --metadata-user-data-text "hello.sh 127.0.0.1:$port frequency=always" >"$work/server.log" 2>&1 &
srv=$!
for _ in $(seq 1 100); do grep -q listening "$work/server.log" && break; sleep 0.1; done

# (a) as installed: the package's launcher (the jar carries it for install), its jar and archive paths moved to
# the built jar and $work, its cache built the launcher's way (`whatami-agent cds`); JVM: /usr/bin/java as there,
# and (a25) the same launcher with JDK 25 as its java. One cache directory each (`cds` keeps one cache per directory)
(cd "$work" && jar xf "$jar" dev/whatami/agent/install/whatami-agent)
launcher() { # name java cache-dir
    sed -e "s|^jar=/usr/share/whatami/whatami-agent.jar|jar=$jar|" -e "s|^cache=/var/cache/whatami|cache=$3|" \
        -e "s|^java=\${WHATAMI_JAVA:-/usr/bin/java}|java=$2|" \
        "$work/dev/whatami/agent/install/whatami-agent" > "$work/$1"
    chmod +x "$work/$1"
}
launcher whatami-agent "$jdk17" "$work/cache"
launcher whatami-agent-25 "$jdk25" "$work/cache25"
"$work/whatami-agent" cds >/dev/null
"$work/whatami-agent-25" cds >/dev/null
ls "$work"/cache/whatami-agent.*.jsa "$work"/cache25/whatami-agent.*.aot >/dev/null # AppCDS on 17, AOT cache on 25
launch="$work/whatami-agent run"
agent="$launch --provider ec2 --metadata-endpoint http://127.0.0.1:$port --state-dir $work/state --log-dir $work/log"
agent25="$work/whatami-agent-25 run --provider ec2 --metadata-endpoint http://127.0.0.1:$port --state-dir $work/state25"
agent25="$agent25 --log-dir $work/log25"
plain="$jdk17 -jar $jar run --provider ec2 --metadata-endpoint http://127.0.0.1:$port --state-dir $work/state2"
plain="$plain --log-dir $work/log2"

# (b) hello world
cat > "$work/hello/Hello.java" <<'JAVA'
public class Hello { public static void main(String[] a) { System.out.println("hello"); } }
JAVA
(cd "$work/hello" && javac Hello.java && printf 'Main-Class: Hello\n' > m && jar cfm hello.jar m Hello.class)
hello="$jdk17 -jar $work/hello/hello.jar"
hello25="$jdk25 -jar $work/hello/hello.jar"

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
./mvnw -B -q -o -pl metadata-client dependency:build-classpath -DincludeScope=runtime \
    -Dmdep.outputFile="$work/cp.txt" >/dev/null
javac -nowarn -d "$work/floor" -cp "$(cat "$work/cp.txt")" bench/boot-floor/BootFloor.java
jar cf "$work/floor.jar" -C "$work/floor" .   # CDS archives classes from jars only, not directories
cp="$work/floor.jar:$(cat "$work/cp.txt")"
floor=()
for m in hc5 url; do
    # shellcheck disable=SC2086
    $jdk17 $flags -Dslf4j.internal.verbosity=ERROR -XX:DumpLoadedClassList="$work/floor-$m.lst" -cp "$cp" \
        BootFloor $m "http://127.0.0.1:$port" >/dev/null
    # shellcheck disable=SC2086
    $jdk17 $flags -Xshare:dump -XX:SharedClassListFile="$work/floor-$m.lst" \
        -XX:SharedArchiveFile="$work/floor-$m.jsa" -cp "$cp" >/dev/null 2>&1
    floor+=("$jdk17 $flags -Dslf4j.internal.verbosity=ERROR -XX:SharedArchiveFile=$work/floor-$m.jsa -Xshare:auto -cp $cp BootFloor $m http://127.0.0.1:$port")
done
# (d25) the floor on JDK 25 with an AOT cache of its own, built as the launcher's is (JDK 25's one-step form: a
# training run of its boot, the cache assembled at its exit) and passed as the launcher passes it
# shellcheck disable=SC2086
"$jdk25" $flags -Dslf4j.internal.verbosity=ERROR -XX:AOTCacheOutput="$work/floor25-hc5.aot" \
    -XX:AOTConfiguration="$work/floor25-hc5.aotconf" -cp "$cp" BootFloor hc5 "http://127.0.0.1:$port" >/dev/null 2>&1
floor25="$jdk25 $flags -Dslf4j.internal.verbosity=ERROR -XX:AOTCache=$work/floor25-hc5.aot -XX:AOTMode=auto -Xlog:aot*=off -Xlog:cds*=off -cp $cp BootFloor hc5 http://127.0.0.1:$port"
# the floors' archives must be usable: with -Xshare:on / -XX:AOTMode=on a JVM that cannot map its archive fails
${floor[0]/-Xshare:auto/-Xshare:on} >/dev/null
${floor[1]/-Xshare:auto/-Xshare:on} >/dev/null
${floor25/-XX:AOTMode=auto/-XX:AOTMode=on} >/dev/null

# (g), (h) cloud-init in the Debian 13 chroot, NoCloud over http from the same server and nothing else
mount -t proc proc "$root/proc"
mount -t sysfs -o ro sysfs "$root/sys"   # this namespace's: the interfaces it lists are lo only
mount -t tmpfs -o mode=755 tmpfs "$root/dev"
for d in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
    IFS=: read -r n ma mi <<<"$d"
    mknod -m 666 "$root/dev/$n" c "$ma" "$mi"
done
ln -s /proc/self/fd "$root/dev/fd"
mount -t tmpfs -o mode=755 tmpfs "$root/run"
ci_version=$(chroot "$root" dpkg-query -W -f '${Version}' cloud-init)
cat > "$root/etc/cloud/cloud.cfg.d/99-whatami-bench.cfg" <<CFG
# written by whatami's bench/boot-latency.sh: NoCloud from loopback only, no network configuration; no partition
# or file system growing (the chroot's disk is the host's)
datasource_list: [NoCloud]
datasource:
  NoCloud:
    seedfrom: http://127.0.0.1:$port/scriptserver/
network: {config: disabled}
growpart: {mode: 'off'}
resize_rootfs: false
# no sshd in the chroot, nor in the agent's job: no host keys to generate
ssh_genkeytypes: []
CFG
mkdir -p "$root/whatami-bench"
cat > "$root/whatami-bench/clean.sh" <<'SH'
#!/bin/sh
# what `cloud-init clean --logs` removes, and the run directory a reboot empties
rm -rf /var/lib/cloud /run/cloud-init /var/log/cloud-init.log /var/log/cloud-init-output.log /whatami-bench/out
SH
cat > "$root/whatami-bench/check.sh" <<'SH'
#!/bin/sh
# a run counts only if hello.sh ran (its output line) and cloud-init recorded no error, nor warning
grep -qx hello /whatami-bench/out || { echo "cloud-init did not run hello.sh" >&2; exit 1; }
grep -q '"errors": \[\]' /run/cloud-init/result.json || { echo "cloud-init recorded errors" >&2; exit 1; }
! grep -q '"WARNING"\|"ERROR"\|"DEPRECATED"' /run/cloud-init/status.json || { echo "cloud-init warned" >&2; exit 1; }
SH
cat > "$root/whatami-bench/all-stages.sh" <<'SH'
#!/bin/sh
# Debian 13's boot: cloud-init-main.service runs `cloud-init --all-stages`, and each stage's unit starts its stage
# with this ExecStart line and runs the reply (the stage's exit status), one after the other as systemd orders them
cloud-init --all-stages </dev/null >/whatami-bench/out 2>&1 &
main=$!
until [ -S /run/cloud-init/share/final.sock ]; do sleep 0.005; done
rc=0
for s in local network config final; do
    echo start | nc -Uu -W1 /run/cloud-init/share/$s.sock -s /run/cloud-init/share/$s-return.sock | sh >/dev/null \
        || rc=1
done
wait $main || rc=1
[ $rc = 0 ] && exec /bin/sh /whatami-bench/check.sh
echo "a stage failed" >&2
exit 1
SH
cat > "$root/whatami-bench/four-stages.sh" <<'SH'
#!/bin/sh
# the four stages as four processes, as the units ran them before the single process
{ cloud-init init --local && cloud-init init && cloud-init modules --mode config && cloud-init modules --mode final
} </dev/null >/whatami-bench/out 2>&1 || { echo "a stage failed" >&2; exit 1; }
exec /bin/sh /whatami-bench/check.sh
SH
ci_clean="chroot $root /bin/sh /whatami-bench/clean.sh"
ci_all="chroot $root /bin/sh /whatami-bench/all-stages.sh"
ci_four="chroot $root /bin/sh /whatami-bench/four-stages.sh"
for c in "$ci_all" "$ci_four"; do  # each must do the job before it is timed, and its log name no address but loopback
    $ci_clean
    $c || { cat "$root/whatami-bench/out" "$root/var/log/cloud-init.log" >&2; exit 1; }
    # every URL it opened (url_helper logs each attempt); its configuration names Debian's mirror, never opened
    if grep -E "url_helper.py\[DEBUG\]: (\[[0-9]+/[0-9]+\] open|Read from) " "$root/var/log/cloud-init.log" \
            | grep -oE "https?://[^/' ]+" | grep -v '^http://127\.0\.0\.1:'; then
        echo "cloud-init opened an address other than loopback (above)"; exit 1
    fi
    if grep -E '169\.254\.|fd00:ec2|metadata\.google' "$root/var/log/cloud-init.log"; then
        echo "cloud-init's log names a metadata address (above)"; exit 1
    fi
done

$agent >/dev/null   # must succeed before it is timed
$agent25 >/dev/null
$plain >/dev/null
names=(a a25 b b25 c d e d25 f g h)
cmds=("$agent" "$agent25" "$hello" "$hello25" "$work/seed.sh" "${floor[@]}" "$floor25" "$plain" "$ci_all" "$ci_four")
# Interleaved: rounds of $per runs (after one warm-up), every command in turn in each round, so that a change in the
# machine's load (it is shared) falls on every command alike rather than on whichever ran then. cloud-init's state
# is removed before each of its runs (hyperfine's --prepare, untimed); the others prepare nothing.
per=5
rounds=$(( (runs + per - 1) / per ))
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$rounds"); do
    for i in "${!names[@]}"; do
        case ${names[$i]} in g|h) prep=$ci_clean ;; *) prep=true ;; esac
        hyperfine -N --warmup 1 --runs "$per" --prepare "$prep" --export-json "$work/h-${names[$i]}-$r.json" \
            "${cmds[$i]}" >>"$work/hyperfine.log" 2>&1 || { cat "$work/hyperfine.log"; exit 1; }
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
rss=$( { /usr/bin/time -f "%M" $agent >/dev/null; } 2>&1 | tail -1)
rss25=$( { /usr/bin/time -f "%M" $agent25 >/dev/null; } 2>&1 | tail -1)
v17=$($jdk17 -version 2>&1 | sed -n 2p)
v25=$($jdk25 -version 2>&1 | sed -n 2p)
[ -z "${KEEP-}" ] || { mkdir -p "$KEEP" && cp "$work"/h-*.json "$root/var/log/cloud-init.log" \
    "$KEEP/" 2>/dev/null || true; }
python3 - "$work" "$rss" "$rss25" "$((rounds * per))" "$load_before" "$load_after" "$ci_version" "$v17" "$v25" <<'PY'
import glob, json, os, sys, statistics, datetime
times, mins = {}, {}
for n in ("a", "a25", "b", "b25", "c", "d", "e", "d25", "f", "g", "h"):
    t = [x for f in glob.glob(os.path.join(sys.argv[1], f"h-{n}-*.json"))
         for x in json.load(open(f))["results"][0]["times"]]
    times[n], mins[n] = statistics.median(t) * 1000, min(t) * 1000
a, a25, b, b25, c, d, e, d25, f, g, h = times.values()
print(f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%dT%H:%MZ}, runs: {sys.argv[4]}, "
      f"cores: {os.cpu_count()}, load average before: {sys.argv[5]}, after: {sys.argv[6]}")
print(f"JDK 17: {sys.argv[8]}; JDK 25: {sys.argv[9]}; cloud-init {sys.argv[7]}")
print(f"(a)   whatami-agent run, the launcher, JDK 17  : median {a:.1f} ms (min {mins['a']:.1f})")
print(f"(a25) whatami-agent run, the launcher, JDK 25  : median {a25:.1f} ms (min {mins['a25']:.1f})")
print(f"(b)   hello-world java -jar, JDK 17            : median {b:.1f} ms (min {mins['b']:.1f})")
print(f"(b25) hello-world java -jar, JDK 25            : median {b25:.1f} ms (min {mins['b25']:.1f})")
print(f"(c)   curl + wget + sh (the seed)              : median {c:.1f} ms (min {mins['c']:.1f})")
print(f"(d)   floor: the flow alone, HttpClient 5, 17  : median {d:.1f} ms (min {mins['d']:.1f})")
print(f"(e)   floor: the flow alone, URLConnection, 17 : median {e:.1f} ms (min {mins['e']:.1f})")
print(f"(d25) floor: the flow alone, HttpClient 5, 25  : median {d25:.1f} ms (min {mins['d25']:.1f})")
print(f"(f)   java -jar whatami-agent.jar run, JDK 17  : median {f:.1f} ms (min {mins['f']:.1f})")
print(f"(g)   cloud-init, one process (Debian 13)      : median {g:.1f} ms (min {mins['g']:.1f})")
print(f"(h)   cloud-init, four stage processes         : median {h:.1f} ms (min {mins['h']:.1f})")
print(f"a/b = {a / b:.2f}   a/c = {a / c:.2f}   d/b = {d / b:.2f}   e/b = {e / b:.2f}   a/d = {a / d:.2f}   "
      f"f/a = {f / a:.2f}")
print(f"a25/d25 = {a25 / d25:.2f}   a25/b25 = {a25 / b25:.2f}   g/a = {g / a:.2f}   g/a25 = {g / a25:.2f}   "
      f"h/a = {h / a:.2f}   h/a25 = {h / a25:.2f}")
print(f"agent peak RSS = {int(sys.argv[2]) / 1024:.0f} MiB (JDK 17), {int(sys.argv[3]) / 1024:.0f} MiB (JDK 25)")
PY
echo "launchers: $launch, $work/whatami-agent-25 run"
echo "caches: $(ls "$work"/cache "$work"/cache25 | grep '^whatami' | tr '\n' ' ')"
