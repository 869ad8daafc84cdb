#!/bin/sh
# Remakes the minisign/signify test vectors in this directory (Debian's minisign and signify-openbsd).
# The tests read the files it wrote; they never run these tools. Keys here are for tests only.
set -eu
cd "$(dirname "$0")"
rm -f *.pub *.key *.sec *.minisig *.sig data.txt
printf 'hello, minisign\n' > data.txt
minisign -G -W -f -p minisign.pub -s minisign.key >/dev/null
minisign -S -s minisign.key -m data.txt -x data.txt.minisig -t 'file:data.txt' >/dev/null
minisign -S -l -s minisign.key -m data.txt -x data.txt.legacy.minisig -t 'legacy file:data.txt' >/dev/null
signify-openbsd -G -n -p signify.pub -s signify.sec
signify-openbsd -S -s signify.sec -m data.txt -x data.txt.sig
