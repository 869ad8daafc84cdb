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
     * @throws SignatureRefusedException when trusted keys are configured and no URL gave a script whose
     *                                   signature verifies
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
        private Duration maxRetryAfter = Duration.ofSeconds(30);
        private Sleeper sleeper = Sleeper.SYSTEM;
        private CloseableHttpClient httpClient;
        private TrustedKeys trustedKeys = TrustedKeys.none();
        private boolean requireSignature;
        private boolean requireHttps;
        private java.nio.file.Path caBundle;
        private java.nio.file.Path cacheDir;
        private FetchListener listener = FetchListener.NONE;

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

        /** Longest wait a server's {@code Retry-After} may impose. Default: 30 s. */
        public Builder maxRetryAfter(Duration d) {
            this.maxRetryAfter = positive(d, "maxRetryAfter");
            return this;
        }

        /**
         * Ed25519 keys whose signatures are trusted. When any are given, every script must come with
         * {@code <url>.sig} verifying under one of them, or it is refused — whatever else is pinned.
         * Default: {@link TrustedKeys#none()}.
         */
        public Builder trustedKeys(TrustedKeys keys) {
            this.trustedKeys = Objects.requireNonNull(keys, "trustedKeys");
            return this;
        }

        /** Refuse to build without trusted keys: a policy that no unsigned script ever runs. Default: false. */
        public Builder requireSignature(boolean require) {
            this.requireSignature = require;
            return this;
        }

        /** Refuse any URL that is not https. Default: false. */
        public Builder requireHttps(boolean require) {
            this.requireHttps = require;
            return this;
        }

        /** Trust exactly the CAs in this PEM bundle for https (read on the first https use). Default: the system's. */
        public Builder caBundle(java.nio.file.Path bundle) {
            if (!java.nio.file.Files.isReadable(bundle)) {
                throw new IllegalArgumentException("the CA bundle " + bundle + " is not a readable file");
            }
            this.caBundle = bundle;
            return this;
        }

        /** Keep the last good copy of each URL here and revalidate it (If-None-Match → 304). Default: no cache. */
        public Builder cacheDir(java.nio.file.Path dir) {
            this.cacheDir = Objects.requireNonNull(dir, "cacheDir");
            return this;
        }

        /** Hears download progress. Default: {@link FetchListener#NONE}. */
        public Builder listener(FetchListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
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
            return new DefaultScriptFetcher(new DefaultScriptFetcher.Settings(connectTimeout, readTimeout,
                    attemptsPerUrl, baseDelay, maxDelay, maxRetryAfter, sleeper, httpClient, trustedKeys,
                    requireSignature, requireHttps, java.util.Optional.ofNullable(caBundle),
                    java.util.Optional.ofNullable(cacheDir), listener));
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
