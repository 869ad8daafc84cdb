package dev.whatami.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TaskRunnerTest {
    @TempDir
    Path dir;

    private Path script(String name, String body) throws Exception {
        Path task = Files.createDirectories(dir.resolve("task"));
        Path p = task.resolve(name);
        Files.writeString(p, body);
        p.toFile().setExecutable(true);
        return p;
    }

    private TaskRunner runner() {
        return TaskRunner.builder(dir.resolve("logs")).build();
    }

    @Test
    void shellScript_getsArgsAsSeparateWordsEnvAndItsOwnDirectory() throws Exception {
        Path s = script("c.sh", "#!/bin/sh\nprintf '%s|' \"$@\"; echo\necho \"role=$ROLE\"\npwd\necho oops >&2\n");
        TaskResult r = runner().run(RunRequest.builder("c.sh", s).args(List.of("a b", "$HOME", "*"))
                .environment(Map.of("ROLE", "collector")).attempt(2).sha256("abc").build());

        assertThat(r.exitCode()).isZero();
        assertThat(r.succeeded()).isTrue();
        assertThat(r.attempt()).isEqualTo(2);
        List<String> out = Files.readAllLines(r.stdout());
        assertThat(out.get(0)).startsWith("=== whatami ").endsWith(" task=c.sh attempt=2 sha256=abc ===");
        assertThat(out.subList(1, out.size())).containsExactly("a b|$HOME|*|", "role=collector",
                s.getParent().toRealPath().toString());
        assertThat(Files.readAllLines(r.stderr())).last().isEqualTo("oops");
        assertThat(r.stdout()).isEqualTo(dir.resolve("logs/c.sh.out"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(r.stdout()))).isEqualTo("rw-r-----");
    }

    @Test
    void nonZeroExit_isAResultNotAnException() throws Exception {
        TaskResult r = runner().run(RunRequest.builder("f.sh", script("f.sh", "exit 3\n")).build());
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.succeeded()).isFalse();
        assertThat(r.command()).first().isEqualTo("/bin/sh"); // by extension, no shebang
    }

    @Test
    void secondRun_appendsToTheLog() throws Exception {
        Path s = script("a.sh", "echo run\n");
        runner().run(RunRequest.builder("a.sh", s).build());
        TaskResult r = runner().run(RunRequest.builder("a.sh", s).attempt(2).build());
        assertThat(Files.readAllLines(r.stdout())).filteredOn("run"::equals).hasSize(2);
    }

    @Test
    void perlByShebangAndByExtension() throws Exception {
        Path bang = script("bang", "#!/usr/bin/perl -w\nprint \"perl says hi\\n\";\n");
        assertThat(Files.readAllLines(runner().run(RunRequest.builder("bang", bang).build()).stdout()))
                .contains("perl says hi");
        Path ext = script("x.pl", "print \"by extension\\n\";\n");
        TaskResult r = runner().run(RunRequest.builder("x.pl", ext).build());
        assertThat(r.command().get(0)).isEqualTo("perl");
        assertThat(Files.readAllLines(r.stdout())).contains("by extension");
    }

    @Test
    void asOverridesShebang() throws Exception {
        Path s = script("o.sh", "#!/bin/false\necho overridden\n");
        TaskResult r = runner().run(RunRequest.builder("o.sh", s).interpreter(Optional.of("/bin/sh")).build());
        assertThat(r.exitCode()).isZero();
        assertThat(Files.readAllLines(r.stdout())).contains("overridden");
    }

    @Test
    void unknownKind_isRefusedSayingWhatWasTried() throws Exception {
        Path s = script("tool.xyz", "echo hi\n");
        assertThatThrownBy(() -> runner().run(RunRequest.builder("tool.xyz", s).build()))
                .isInstanceOf(TaskRunException.class)
                .hasMessage("cannot tell how to run tool.xyz: no as= in the user-data, no #! line in the script, and "
                        + "the extension .xyz is not one of .sh .bash .pl .py .rb. Add a #! line to the script or "
                        + "as=<interpreter> to its user-data line.");
    }

    @Test
    void missingShebangInterpreter_isRefused() throws Exception {
        Path s = script("m.sh", "#!/usr/bin/no-such-shell\necho\n");
        assertThatThrownBy(() -> runner().run(RunRequest.builder("m.sh", s).build()))
                .isInstanceOf(TaskRunException.class)
                .hasMessageContaining("names /usr/bin/no-such-shell, which is not an executable on this machine");
    }

    @Test
    void stdinIsClosed() throws Exception {
        Path s = script("cat.sh", "cat\necho after-cat\n");
        TaskResult r = runner().run(RunRequest.builder("cat.sh", s).timeout(Optional.of(Duration.ofSeconds(20)))
                .build());
        assertThat(r.timedOut()).isFalse();
        assertThat(Files.readAllLines(r.stdout())).contains("after-cat");
    }

    @Test
    void timeout_killsTheWholeProcessTree() throws Exception {
        Path s = script("hang.sh", "sleep 300 &\necho $! > child.pid\nsleep 300\n");
        TaskResult r = runner().run(RunRequest.builder("hang.sh", s).timeout(Optional.of(Duration.ofMillis(500)))
                .build());

        assertThat(r.timedOut()).isTrue();
        assertThat(r.succeeded()).isFalse();
        long child = Long.parseLong(Files.readString(s.resolveSibling("child.pid")).strip());
        Optional<ProcessHandle> h = ProcessHandle.of(child);
        if (h.isPresent()) {
            h.get().onExit().get(5, TimeUnit.SECONDS); // killed: reaped by init shortly after
        }
        assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    }

    @Test
    void console_receivesPrefixedLines() throws Exception {
        List<String> lines = new CopyOnWriteArrayList<>();
        TaskRunner r = TaskRunner.builder(dir.resolve("logs")).console(lines::add).build();
        r.run(RunRequest.builder("e.sh", script("e.sh", "echo one\necho two >&2\n")).build());
        assertThat(lines).contains("[e.sh] one", "[e.sh] two");
    }

    @Test
    void output_isCappedWithANote() throws Exception {
        TaskRunner r = TaskRunner.builder(dir.resolve("logs")).maxLogBytes(100).build();
        TaskResult res = r.run(RunRequest.builder("big.sh", script("big.sh", "head -c 5000 /dev/zero | tr '\\0' x\n"))
                .build());
        String out = Files.readString(res.stdout());
        assertThat(out).contains("[whatami: output past 100 bytes dropped: 4900 bytes]");
        assertThat(out.chars().filter(c -> c == 'x').count()).isEqualTo(100);
    }

    @Test
    void fullLog_isRotatedOnceBeforeTheNextRun() throws Exception {
        TaskRunner r = TaskRunner.builder(dir.resolve("logs")).maxLogBytes(100).build();
        Path s = script("r.sh", "head -c 300 /dev/zero | tr '\\0' y\n");
        r.run(RunRequest.builder("r.sh", s).build());
        r.run(RunRequest.builder("r.sh", s).attempt(2).build());
        r.run(RunRequest.builder("r.sh", s).attempt(3).build());
        assertThat(Files.readString(dir.resolve("logs/r.sh.out"))).contains("attempt=3").doesNotContain("attempt=2");
        assertThat(Files.readString(dir.resolve("logs/r.sh.out.1"))).contains("attempt=2");
        assertThat(dir.resolve("logs/r.sh.out.2")).doesNotExist();
    }

    @Test
    void outputTail_holdsTheLastLinesOfEachStream_bounded() throws Exception {
        Path s = script("t.sh", "#!/bin/sh\nfor i in $(seq 1 30); do echo out$i; done\necho err1 >&2\n"
                + "head -c 400 /dev/zero | tr '\\0' z >&2\necho >&2\n");
        TaskResult r = runner().run(RunRequest.builder("t.sh", s).build());
        assertThat(r.stdoutTail()).hasSize(20).first().isEqualTo("out11");
        assertThat(r.stdoutTail()).last().isEqualTo("out30");
        assertThat(r.stderrTail()).hasSize(2).first().isEqualTo("err1");
        assertThat(r.stderrTail().get(1)).hasSize(301).endsWith("z\u2026");
    }

    @Test
    void aSymbolicLinkPlantedAsTheLogFile_isRefusedNotFollowed() throws Exception {
        Path logs = Files.createDirectories(dir.resolve("logs"));
        Path victim = Files.writeString(dir.resolve("victim"), "keep me\n");
        Files.createSymbolicLink(logs.resolve("v.sh.out"), victim);
        Path s = script("v.sh", "#!/bin/sh\necho pwned\n");
        assertThatThrownBy(() -> runner().run(RunRequest.builder("v.sh", s).build()))
                .isInstanceOf(TaskRunException.class)
                .hasMessageContaining("v.sh.out is not a regular file (a symbolic link); whatami never writes logs "
                        + "through links");
        assertThat(Files.readString(victim)).isEqualTo("keep me\n");
    }

    @Test
    void consoleCallback_isNeverCalledConcurrently() throws Exception {
        java.util.concurrent.atomic.AtomicInteger inside = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger overlaps = new java.util.concurrent.atomic.AtomicInteger();
        List<String> lines = new CopyOnWriteArrayList<>();
        TaskRunner r = TaskRunner.builder(dir.resolve("logs")).console(line -> {
            if (inside.incrementAndGet() > 1) {
                overlaps.incrementAndGet();
            }
            Thread.onSpinWait();
            lines.add(line);
            inside.decrementAndGet();
        }).build();
        Path s = script("both.sh", "#!/bin/sh\nfor i in $(seq 1 500); do echo o$i; echo e$i >&2; done\n");
        r.run(RunRequest.builder("both.sh", s).build());
        assertThat(lines).hasSize(1000);
        assertThat(overlaps.get()).isZero();
    }
}
