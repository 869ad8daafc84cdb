package dev.whatami.boot.internal;

import dev.whatami.fetch.FetchException;
import dev.whatami.fetch.FetchFailure;
import dev.whatami.fetch.FetchListener;
import dev.whatami.fetch.FetchRequest;
import dev.whatami.fetch.FetchResult;
import dev.whatami.fetch.FetchRefusedException;
import dev.whatami.fetch.ScriptFetcher;
import dev.whatami.status.TaskState;
import dev.whatami.fetch.SignatureSource;
import dev.whatami.userdata.Redact;
import dev.whatami.userdata.Signature;
import dev.whatami.userdata.TaskSource;
import dev.whatami.userdata.TaskSpec;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 2 of a task: get its script to a local file — fetched (with mirrors, retries under the run's fetch budget,
 * resume, pins and signatures, all in the fetcher) or, for a script carried in the user-data, placed with the same
 * guarantees. The fetcher's refusals end the task {@link TaskState#REFUSED}; every other failure
 * {@link TaskState#NOT_FETCHED}: the script never ran and no attempt is spent.
 */
final class Obtain {
    private static final Logger LOG = LoggerFactory.getLogger(Obtain.class);

    /** A placed script, or why there is none. */
    sealed interface Obtained {
    }

    /** The script is at its final path. */
    record Placed(FetchResult result) implements Obtained {
    }

    /**
     * @param state   {@link TaskState#NOT_FETCHED} or {@link TaskState#REFUSED}
     * @param error   the fetcher's error (its message says what failed and what to fix, URLs redacted)
     */
    record Missing(TaskState state, FetchException error) implements Obtained {
    }

    private final ScriptFetcher fetcher;
    private final long maxBytes;
    private final Supplier<Instant> deadline;
    private final String userDataSource;

    /**
     * @param deadline when fetching must stop; asked once per fetch (the run's budget is shared by every task)
     */
    Obtain(ScriptFetcher fetcher, long maxBytes, Supplier<Instant> deadline, String userDataSource) {
        this.fetcher = fetcher;
        this.maxBytes = maxBytes;
        this.deadline = deadline;
        this.userDataSource = userDataSource;
    }

    Obtained obtain(TaskSpec task, Path taskDir) {
        try {
            if (task.source() instanceof TaskSource.Remote remote) {
                LOG.info("task {}: fetching {}", task.name(), Redact.url(remote.url()));
                FetchRequest.Builder request = FetchRequest.builder(remote.url(), taskDir, task.name())
                        .mirrors(remote.mirrors()).digest(task.digest()).maxBytes(maxBytes);
                task.signature().map(Obtain::source).ifPresent(request::signature);
                Instant until = deadline.get();
                LOG.debug("task {}: fetching until {}", task.name(), until);
                return new Placed(fetcher.fetch(request.deadline(until).build()));
            }
            Optional<byte[]> signature = task.signature().filter(sig -> sig instanceof Signature.Inline)
                    .map(sig -> ((Signature.Inline) sig).bytes());
            return new Placed(fetcher.placeInline(((TaskSource.Inline) task.source()).content(),
                    URI.create(userDataSource), taskDir, task.name(), signature));
        } catch (IllegalArgumentException e) {
            // a URL the grammar accepts but this fetcher cannot fetch (a scheme it does not speak)
            String scheme = task.source() instanceof TaskSource.Remote r ? r.url().getScheme() : "inline";
            String why = "cannot fetch " + task.name() + ": this agent does not fetch " + scheme + " URLs (the "
                    + "fetcher refused the request); use an http(s) URL or upgrade the agent";
            LOG.warn("task {}: {}", task.name(), why);
            return new Missing(TaskState.NOT_FETCHED, new FetchException(FetchFailure.CONFIGURATION, why,
                    task.source() instanceof TaskSource.Remote r ? r.url() : null, 0, e));
        } catch (FetchRefusedException e) {
            LOG.warn("task {}: {}", task.name(), e.getMessage());
            return new Missing(TaskState.REFUSED, e);
        } catch (FetchException e) {
            LOG.warn("task {}: {}", task.name(), e.getMessage());
            return new Missing(TaskState.NOT_FETCHED, e);
        }
    }

    /** The user-data's {@code sig=} in the fetcher's terms. */
    private static SignatureSource source(Signature signature) {
        if (signature instanceof Signature.Inline inline) {
            return new SignatureSource.Inline(inline.bytes());
        }
        return new SignatureSource.At(((Signature.Remote) signature).url());
    }

    /** Logs a line every few seconds while a download is slow: size, rate, time left. */
    static final class ProgressLog implements FetchListener {
        private final Clock clock;
        private URI current;
        private Instant started;
        private Instant lastLine;

        ProgressLog(Clock clock) {
            this.clock = clock;
        }

        @Override
        public void progress(URI url, long bytes, OptionalLong total) {
            Instant now = clock.instant();
            if (!url.equals(current)) {
                current = url;
                started = now;
                lastLine = now;
                return;
            }
            if (Duration.between(lastLine, now).getSeconds() < 5) {
                return;
            }
            lastLine = now;
            double seconds = Math.max(0.001, Duration.between(started, now).toMillis() / 1000.0);
            double rate = bytes / seconds;
            String eta = total.isPresent() && rate > 0 ? String.format(", about %.0f s left",
                    (total.getAsLong() - bytes) / rate) : "";
            LOG.info("fetching {}: {} MiB{} at {} MiB/s{}", Redact.url(url), bytes >> 20,
                    total.isPresent() ? " of " + (total.getAsLong() >> 20) : "", String.format("%.1f", rate / (1 << 20)),
                    eta);
        }
    }
}
