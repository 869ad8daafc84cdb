#!/bin/sh
# The demo's role script: what the seed's collector.pl would do, minus apt-get.
echo "I am a collector now."
echo "  instance : $WHATAMI_INSTANCE_ID ($WHATAMI_PROVIDER)"
echo "  script   : $WHATAMI_TASK from $WHATAMI_SERVER"
echo "  arguments: $*"
echo "  load     : $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)" | tee collected.txt
echo "collector ready; samples in $(pwd)/collected.txt"
