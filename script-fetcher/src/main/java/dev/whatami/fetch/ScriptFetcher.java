package dev.whatami.fetch;

import dev.whatami.fetch.internal.DefaultScriptFetcher;
import java.time.Duration;
import java.util.Objects;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;

/**
 * Turns a URL into a local file it can vouch for: streamed to a staging file beside the target (bounded
 * size, hashed as it arrives), verified, {@code fsync}ed, renamed atomically, mode 0700. A refused or
 * failed download never touches the final path. Thread-safe; close it when done (it closes the HTTP
 * client only if it built it).
 */
public interface ScriptFetcher extends AutoCloseable {

    /**
     * Fetches and verifies.
     *
     * @throws IntegrityException when the bytes do not match the pinned digest on every URL tried
     * @throws FetchException     when no URL gave the file
     */
    FetchResult fetch(FetchRequest request);

    /**
     * Places bytes that came inside the user-data (the script form, MIME shell-script parts) with the same
     * guarantees as a download: staging file, {@code fsync}, atomic rename, mode 0700.
     *
     * @return the placed file, with trust {@link TrustLevel#USER_DATA} and source {@code source}
     */
    FetchResult placeInline(byte[] content, java.net.URI source, java.nio.file.Path targetDir, String fileName);

    @Override
    void close();

    static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ScriptFetcher}. Not thread-safe. */
    final class Builder {
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration readTimeout = Duration.ofSeconds(30);
        private int attemptsPerUrl = 3;
        private Duration baseDelay = Duration.ofMillis(500);
        private Duration maxDelay = Duration.ofSeconds(8);
        private Sleeper sleeper = Sleeper.SYSTEM;
        private CloseableHttpClient httpClient;

        private Builder() {
        }

        /** TCP connect timeout per attempt. Default: 5 s. Ignored when {@link #httpClient} is given. */
        public Builder connectTimeout(Duration d) {
            this.connectTimeout = positive(d, "connectTimeout");
            return this;
        }

        /** Longest silence while waiting for response bytes. Default: 30 s. Ignored when {@link #httpClient} is given. */
        public Builder readTimeout(Duration d) {
            this.readTimeout = positive(d, "readTimeout");
            return this;
        }

        /** Attempts on each URL before moving to the next mirror. Default: 3. */
        public Builder attemptsPerUrl(int attempts) {
            if (attempts < 1) {
                throw new IllegalArgumentException("attemptsPerUrl must be >= 1, got " + attempts);
            }
            this.attemptsPerUrl = attempts;
            return this;
        }

        /** First wait before a retry; doubles each time up to {@link #maxDelay}. Default: 500 ms. */
        public Builder baseDelay(Duration d) {
            this.baseDelay = positive(d, "baseDelay");
            return this;
        }

        /** Longest wait before a retry. Default: 8 s. */
        public Builder maxDelay(Duration d) {
            this.maxDelay = positive(d, "maxDelay");
            return this;
        }

        /** Default: {@link Sleeper#SYSTEM}. */
        public Builder sleeper(Sleeper sleeper) {
            this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
            return this;
        }

        /** Use this HTTP client; the caller keeps ownership. Default: one built here and closed by {@link #close()}. */
        public Builder httpClient(CloseableHttpClient client) {
            this.httpClient = Objects.requireNonNull(client, "httpClient");
            return this;
        }

        public ScriptFetcher build() {
            return new DefaultScriptFetcher(connectTimeout, readTimeout, attemptsPerUrl, baseDelay, maxDelay, sleeper,
                    httpClient);
        }

        private static Duration positive(Duration d, String name) {
            Objects.requireNonNull(d, name);
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }
}
