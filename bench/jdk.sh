# Shared by the benchmarks that run more than one JDK (boot-latency.sh, aot-startup.sh): sourced, not run.
# find_jdk N — the java of the first JDK of feature release N under /usr/lib/jvm, by its release file; fails if none.
find_jdk() {
    for r in /usr/lib/jvm/*/release; do
        if grep -q "^JAVA_VERSION=\"$1[.\"]" "$r" && [ -x "${r%/release}/bin/java" ]; then
            echo "${r%/release}/bin/java"
            return
        fi
    done
    return 1
}
