#!/bin/sh
# Remakes the minisign/signify test vectors in this directory (Debian's minisign and signify-openbsd).
# The tests read the files it wrote; they never run these tools. Every key here is a test key, for nothing else.
set -eu
cd "$(dirname "$0")"
rm -f *.pub *.key *.sec *.minisig *.sig data.txt
printf 'hello, minisign\n' > data.txt
minisign -G -W -f -p minisign.pub -s minisign.key >/dev/null
minisign -S -s minisign.key -m data.txt -x data.txt.minisig -t 'file:data.txt' >/dev/null
minisign -S -l -s minisign.key -m data.txt -x data.txt.legacy.minisig -t 'legacy file:data.txt' >/dev/null
signify-openbsd -G -n -p signify.pub -s signify.sec
signify-openbsd -S -s signify.sec -m data.txt -x data.txt.sig

# A whole manifest set: the root key (minisign) signs keys.json, which lists a signify key that signs manifest.json.
mkdir -p set && rm -f set/*
printf '#!/bin/sh\necho collector\n' > set/collector.sh
minisign -G -W -f -p root.pub -s root.key >/dev/null
signify-openbsd -G -n -p set-signing.pub -s set-signing.sec
cat > set/keys.json <<JSON
{"type": "whatami-keys/1", "version": 1, "expires": "2030-01-01T00:00:00Z",
 "keys": [{"key": "$(sed -n 2p set-signing.pub)", "expires": "2030-01-01T00:00:00Z"}],
 "revoked": []}
JSON
cat > set/manifest.json <<JSON
{"type": "whatami-manifest/1", "name": "roles", "version": 1, "expires": "2030-01-01T00:00:00Z",
 "files": {"collector.sh": {"sha256": "$(sha256sum set/collector.sh | cut -d' ' -f1)"}}}
JSON
minisign -S -s root.key -m set/keys.json -t 'whatami keys v1' >/dev/null
signify-openbsd -S -s set-signing.sec -m set/manifest.json -x set/manifest.json.minisig

# the tests need no secret key but minisign.key (read as minisign writes it); the others are not kept
rm -f root.key signify.sec set-signing.sec
