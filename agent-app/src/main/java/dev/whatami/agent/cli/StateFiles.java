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
        return Path.of(sources.get("state-dir").orElse("/var/lib/whatami"));
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
    static RunState effectiveState(RunStatus status) {
        if (status.state() == RunState.RUNNING && status.pid().isPresent()
                && !ProcessHandle.of(status.pid().getAsLong()).map(ProcessHandle::isAlive).orElse(false)) {
            return RunState.INTERRUPTED;
        }
        return status.state();
    }

    static boolean exists(Path p) {
        return Files.exists(p, LinkOption.NOFOLLOW_LINKS);
    }
}
