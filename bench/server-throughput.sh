#!/usr/bin/env bash
# Benchmark: whatami-server, nginx and Apache httpd (Debian defaults) serving the same files on
# loopback, driven by wrk in one run: a 4 KiB script and a 1 MiB file, at 64 and 1000 connections, 10 s each
# after a warm-up. Reports requests/s, p50/p99 latency and errors, the 1-minute load before each cell, whatami's
# ratios, and the server's JVM flags (the packaged launcher's, server-app/src/deb/bin/whatami-server, plus any in
# WHATAMI_SERVER_JAVA_OPTS) and its resident memory at the end.
# Needs: apt-get install nginx apache2 wrk. Usage: bench/server-throughput.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
for tool in nginx apache2 wrk; do command -v "$tool" >/dev/null || { echo "needs $tool (apt-get install nginx apache2 wrk)"; exit 2; }; done
ulimit -n 65536 2>/dev/null || true   # wrk needs a descriptor per connection
jar=server-app/target/whatami-server.jar
if [ ! -f "$jar" ] || [ -n "$(find server-app/src/main -newer "$jar" -print -quit)" ]; then
    ./mvnw -B -q -DskipTests package -pl server-app -am
fi
# the JVM flags users get: the launcher's exec line
jvm_flags="$(sed -n 's/^exec "$java" \(.*\) ${WHATAMI_SERVER_JAVA_OPTS-}.*/\1/p' server-app/src/deb/bin/whatami-server) ${WHATAMI_SERVER_JAVA_OPTS-}"
[ -n "${jvm_flags// /}" ] || { echo "could not read the JVM flags from server-app/src/deb/bin/whatami-server"; exit 2; }
work=$(mktemp -d /tmp/whatami-srv.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$work"' EXIT
mkdir -p "$work/www/scriptserver" "$work/logs"
chmod 777 "$work/logs"
head -c 4096 /dev/urandom > "$work/www/scriptserver/script.sh"
head -c $((1 << 20)) /dev/urandom > "$work/www/scriptserver/file.bin"
chmod 755 "$work" "$work/www" "$work/www/scriptserver"; chmod 644 "$work"/www/scriptserver/*   # nginx and apache workers read them
free_port() { local p=$1; while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done; echo "$p"; }

wp=$(free_port 18200)
# shellcheck disable=SC2086
java $jvm_flags -jar "$jar" --root "$work/www/scriptserver" --port "$wp" --bind 127.0.0.1 \
    >"$work/logs/whatami.log" 2>&1 &
pids+=($!)
wpid=$!

np=$(free_port $((wp + 1)))
cat > "$work/nginx.conf" <<NGINX
daemon off;
worker_processes auto;
pid $work/nginx.pid;
error_log $work/logs/nginx-error.log;
events { worker_connections 4096; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    sendfile on; tcp_nopush on;
    server { listen 127.0.0.1:$np; root $work/www; }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)

ap=$(free_port $((np + 1)))
mods=/usr/lib/apache2/modules
cat > "$work/httpd.conf" <<APACHE
ServerRoot "$work"
PidFile "$work/apache.pid"
Listen 127.0.0.1:$ap
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule mime_module $mods/mod_mime.so
TypesConfig /etc/mime.types
DocumentRoot "$work/www"
ErrorLog "$work/logs/apache-error.log"
ServerName localhost
User www-data
Group www-data
# Debian's mpm_event defaults
StartServers 2
MinSpareThreads 25
MaxSpareThreads 75
ThreadLimit 64
ThreadsPerChild 25
MaxRequestWorkers 150
MaxConnectionsPerChild 0
KeepAlive On
APACHE
APACHE_RUN_DIR="$work" apache2 -f "$work/httpd.conf" -DFOREGROUND &
pids+=($!)

for p in "$wp" "$np" "$ap"; do
    for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$p/scriptserver/script.sh" && break; sleep 0.1; done
done

# warm-up for everyone (the JVM compiles its hot paths in the first seconds): both files, before any cell
for p in "$wp" "$np" "$ap"; do
    for file in script.sh file.bin; do wrk -t2 -c64 -d5s "http://127.0.0.1:$p/scriptserver/$file" >/dev/null 2>&1 || true; done
done

echo "date: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, wrk -t2 -d${secs}s, loopback; whatami JVM flags: $jvm_flags"
printf '%-8s %-9s %-6s %12s %10s %10s %8s %6s\n' server file conns req/s p50 p99 errors load1
declare -A rps
for file in script.sh file.bin; do
    for conns in 64 1000; do
        for srv in whatami:$wp nginx:$np apache:$ap; do
            name=${srv%%:*}; port=${srv##*:}
            url="http://127.0.0.1:$port/scriptserver/$file"
            wrk -t2 -c"$conns" -d2s "$url" >/dev/null 2>&1 || true   # warm-up
            load=$(cut -d' ' -f1 /proc/loadavg)
            out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "$url" 2>&1 || true)
            r=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
            p50=$(echo "$out" | awk '$1=="50%" {print $2}')
            p99=$(echo "$out" | awk '$1=="99%" {print $2}')
            errs=$(echo "$out" | awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10} /Non-2xx/ {print "non2xx:"$5}' | paste -sd' ')
            rps[$name,$file,$conns]=$r
            printf '%-8s %-9s %-6s %12s %10s %10s %8s %6s\n' "$name" "$file" "$conns" "$r" "$p50" "$p99" "${errs:-0}" "$load"
        done
    done
done
echo
for file in script.sh file.bin; do
    for conns in 64 1000; do
        w=${rps[whatami,$file,$conns]}; n=${rps[nginx,$file,$conns]}; a=${rps[apache,$file,$conns]}
        echo "$file @ $conns: whatami/nginx = $(awk -v w="$w" -v n="$n" 'BEGIN {printf "%.2f", w / n}'), whatami/apache = $(awk -v w="$w" -v a="$a" 'BEGIN {printf "%.2f", w / a}')"
    done
done
echo "whatami resident memory at the end: $(awk '/VmRSS/ {printf "%d MiB", $2 / 1024}' "/proc/$wpid/status"), peak $(awk '/VmHWM/ {printf "%d MiB", $2 / 1024}' "/proc/$wpid/status")"
