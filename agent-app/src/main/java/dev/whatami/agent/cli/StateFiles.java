package dev.whatami.agent.cli;

import dev.whatami.status.AtomicFiles;
import dev.whatami.status.RunState;
import dev.whatami.status.RunStatus;
import dev.whatami.status.StatusCodec;
import dev.whatami.status.StatusFormatException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongPredicate;

/** Reading what a run left in the state directory, for {@code status} and {@code reset}. */
final class StateFiles {
    private static final StatusCodec CODEC = StatusCodec.create();

    /** status.json could not be read; the message says why. */
    static final class UnreadableStatusException extends Exception {
        private static final long serialVersionUID = 1L;

        UnreadableStatusException(String message) {
            super(message);
        }
    }

    private StateFiles() {
    }

    /** The state directory: {@code --state-dir}, else {@code WHATAMI_STATE_DIR}, else the config file, else the default. */
    static Path stateDir(Path flag, Map<String, String> env, Path config) {
        if (flag != null) {
            return flag;
        }
        ConfigSources sources = ConfigSources.load(env, config, RunCommand.KEYS);
        return Path.of(sources.get("state-dir").orElse(RunCommand.DEFAULT_STATE_DIR.toString()));
    }

    /** The log directory, found the same way as {@link #stateDir}. */
    static Path logDir(Map<String, String> env, Path config) {
        ConfigSources sources = ConfigSources.load(env, config, RunCommand.KEYS);
        return Path.of(sources.get("log-dir").orElse("/var/log/whatami"));
    }

    /** The last run's status, empty when no run wrote one yet. */
    static Optional<RunStatus> read(Path file) throws UnreadableStatusException {
        try {
            return Optional.of(CODEC.read(AtomicFiles.read(file, StatusCodec.MAX_BYTES)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (AccessDeniedException e) {
            throw new UnreadableStatusException("cannot read " + file + ": permission denied (status.json is written "
                    + "0644 by this version; an older agent made it 0600 — run the agent once more, or use sudo)");
        } catch (IOException e) {
            throw new UnreadableStatusException("cannot read " + file + ": " + e.getMessage());
        } catch (StatusFormatException e) {
            throw new UnreadableStatusException(file + " is damaged: " + e.getMessage());
        }
    }

    /** "running" with a dead pid means the agent was killed: say so instead of waiting for ever. */
    static RunState effectiveState(RunStatus status, LongPredicate alive) {
        if (status.state() == RunState.RUNNING && status.pid().isPresent() && !alive.test(status.pid().getAsLong())) {
            return RunState.INTERRUPTED;
        }
        return status.state();
    }

    /**
     * The status in {@code file} and its effective state. A "running" document whose pid has gone is read once more
     * before it counts as interrupted: the agent writes its last status and then exits, so between the first read
     * and the pid check it may have finished; only a document that still says running afterwards was killed.
     */
    static Optional<Settled> readSettled(Path file, LongPredicate alive) throws UnreadableStatusException {
        Optional<RunStatus> status = read(file);
        if (status.isEmpty()) {
            return Optional.empty();
        }
        RunState state = effectiveState(status.get(), alive);
        if (state == RunState.INTERRUPTED && status.get().state() == RunState.RUNNING) {
            Optional<RunStatus> again = read(file);
            if (again.isPresent() && !again.get().equals(status.get())) {
                return Optional.of(new Settled(again.get(), effectiveState(again.get(), alive)));
            }
        }
        return Optional.of(new Settled(status.get(), state));
    }

    /** A status document and what it means now ({@link RunState#INTERRUPTED} for a dead agent's "running"). */
    record Settled(RunStatus status, RunState state) {
    }

    static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    static boolean exists(Path p) {
        return Files.exists(p, LinkOption.NOFOLLOW_LINKS);
    }
}
