#!/usr/bin/env bash
# whatami demo: on loopback, one generic "instance" asks the metadata service what it is, fetches the
# script its user-data names from the file server, and becomes a collector. Needs only a JDK (17+).
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)

echo "==> building the two jars (./mvnw -B -q -DskipTests package)"
./mvnw -B -q -DskipTests package -pl agent-app,server-app -am

work="$here/target/demo"
rm -rf "$work"
mkdir -p "$work/www/scriptserver" "$work/state" "$work/log"
cp demo/scriptserver/* "$work/www/scriptserver/"

# a free loopback port, from 8080 up (bash's /dev/tcp: no extra tools needed)
port=8080
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done

user_data="collector.sh 127.0.0.1:$port demo"
echo "==> starting the file server with emulated EC2 metadata on http://127.0.0.1:$port"
echo "    user-data: $user_data"
java -jar server-app/target/whatami-server.jar --root "$work/www/scriptserver" --port "$port" --bind 127.0.0.1 \
    --instance-id i-0demo0000000000 --metadata-user-data-text "$user_data" >"$work/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
    grep -q "listening on" "$work/server.log" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
    sleep 0.1
done
cat "$work/server.log"

echo
echo "==> booting the agent: whatami-agent run --provider ec2 --metadata-endpoint http://127.0.0.1:$port ..."
set +e
java -jar agent-app/target/whatami-agent.jar run --provider ec2 --metadata-endpoint "http://127.0.0.1:$port" \
    --state-dir "$work/state" --log-dir "$work/log" --deadline 30s
code=$?
set -e

echo
echo "==> the agent exited $code"
echo "    task output : $work/log/collector.sh.out"
echo "    status      : $work/state/status.json"
echo "    script      : $work/state/instances/i-0demo0000000000/tasks/collector.sh/"
echo
sed -n '1,12p' "$work/state/status.json"
echo "    ..."
exit "$code"
