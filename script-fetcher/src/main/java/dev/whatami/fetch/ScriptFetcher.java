package dev.whatami.fetch;

import dev.whatami.fetch.internal.DefaultScriptFetcher;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.metadata.Sleeper;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;

/**
 * Turns a URL into a local file it can vouch for: streamed to a staging file beside the target (bounded size, hashed
 * as it arrives), verified, {@code fsync}ed, renamed atomically, mode 0700. A refused or failed download never touches
 * the final path.
 *
 * <p>A fetch runs under a deadline ({@link FetchRequest.Builder#deadline}, else the {@link Builder#retryPolicy
 * retry policy}'s): it tries the URL and then each mirror (a <em>round</em>), waits a backoff, and starts the next
 * round, until one URL gives a file that verifies, every URL has given a final answer, or the deadline comes. No
 * attempt starts after the deadline, an attempt in progress is aborted at it, and a server's {@code Retry-After} is
 * honoured but never waited for past it. What ends a fetch is typed: {@link FetchException#failure()} for <em>not
 * fetched</em>, {@link FetchRefusedException#reason()} for <em>refused</em>.
 *
 * <pre>{@code
 * try (ScriptFetcher fetcher = ScriptFetcher.builder().trustedKeys(TrustedKeys.fromDirectory(keys)).build()) {
 *     FetchResult r = fetcher.fetch(FetchRequest.builder(url, taskDir, "collector.pl")
 *             .deadline(Instant.now().plusSeconds(60)).build());
 * }
 * }</pre>
 *
 * Thread-safe: fetches may run at once from several threads, into different target directories. Close it when done:
 * it closes the HTTP client only if it built it, and stops its deadline thread.
 */
public interface ScriptFetcher extends AutoCloseable {

    /**
     * Fetches and verifies. Removes staging files that an earlier, killed download left in the target directory.
     *
     * @throws IntegrityException        when every URL gave bytes that do not match the pinned digest
     * @throws SignatureRefusedException when trusted keys are configured and no URL gave a script whose signature
     *                                   verifies (and every URL was refused)
     * @throws FetchRefusedException     when a policy forbids the request ({@link RefusalReason#POLICY})
     * @throws FetchException            when the file was not fetched: {@link FetchException#failure()} says why
     * @throws IllegalStateException     when the fetcher is closed
     */
    FetchResult fetch(FetchRequest request);

    /**
     * Places bytes that came inside the user-data (the script form, MIME shell-script parts) with the same guarantees
     * as a download: staging file, {@code fsync}, atomic rename, mode 0700.
     *
     * @return the placed file, with trust {@link dev.whatami.status.Trust#USER_DATA} and source {@code source}
     * @throws SignatureRefusedException when trusted keys are configured: an inline script without a signature is
     *                                   refused ({@link RefusalReason#SIGNATURE_MISSING})
     * @throws FetchRefusedException     with {@link RefusalReason#MANIFEST_MISSING} when a manifest root key is
     *                                   configured and no trusted keys: no manifest can list an inline script
     * @throws FetchException with {@link FetchFailure#LOCAL_IO} when the file cannot be written
     */
    FetchResult placeInline(byte[] content, URI source, Path targetDir, String fileName);

    /**
     * {@link #placeInline(byte[], URI, Path, String)} for a script that carries its signature in the user-data: with
     * trusted keys configured, the signature (base64 of the 64 bytes, or the raw 64 bytes) must verify over
     * {@code content}, or the script is refused ({@link SignatureRefusedException}); then its trust is
     * {@link dev.whatami.status.Trust#SIGNATURE}. Without trusted keys it is
     * {@link dev.whatami.status.Trust#USER_DATA}, signature or not.
     *
     * @throws SignatureRefusedException when keys are configured and the signature is missing or does not verify
     * @throws FetchRefusedException     with {@link RefusalReason#MANIFEST_MISSING} when a manifest root key is
     *                                   configured and no trusted keys
     * @throws FetchException            with {@link FetchFailure#LOCAL_IO} when the file cannot be written
     */
    FetchResult placeInline(byte[] content, URI source, Path targetDir, String fileName, Optional<byte[]> signature);

    /** Closes what the fetcher owns: its HTTP client if it built it, and its deadline thread. Idempotent. */
    @Override
    void close();

    /** A builder with every setting at its default. */
    static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ScriptFetcher}. Not thread-safe. */
    final class Builder {
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration readTimeout = Duration.ofSeconds(30);
        private Duration attemptTimeout = Duration.ofMinutes(5);
        private RetryPolicy retryPolicy = RetryPolicy.defaults();
        private Clock clock = Clock.systemUTC();
        private Sleeper sleeper = Sleeper.SYSTEM;
        private RandomGenerator random;
        private CloseableHttpClient httpClient;
        private TrustedKeys trustedKeys = TrustedKeys.none();
        private boolean requireSignature;
        private boolean requireHttps;
        private Path caBundle;
        private Path cacheDir;
        private FetchListener listener = FetchListener.NONE;
        private Supplier<S3Access> s3;
        private Supplier<GcsAccess> gcs;
        private Supplier<AzureBlobAccess> azure;
        private ManifestTrust manifestTrust;

        private Builder() {
        }

        /** TCP connect timeout per connection. Default: 5 s. Not used with {@link #httpClient}: that client's applies. */
        public Builder connectTimeout(Duration d) {
            this.connectTimeout = positive(d, "connectTimeout");
            return this;
        }

        /**
         * Longest silence while waiting for response bytes. Default: 30 s. Applies to a client given with
         * {@link #httpClient} too (per request).
         */
        public Builder readTimeout(Duration d) {
            this.readTimeout = positive(d, "readTimeout");
            return this;
        }

        /**
         * Longest one attempt on one URL may take, from connecting to the last byte of the script and its signature;
         * an attempt still running then is aborted (the connection closed, never drained) and counts as a
         * {@link FetchFailure#TIMEOUT}. It bounds a server that sends one byte a second, which no read timeout
         * catches, so that the mirrors still get their turn. An attempt never runs past the fetch's deadline either.
         * Raise it for large files on slow links (a cut-off download resumes where it stopped when the server gives
         * a strong validator). Default: 5 minutes.
         */
        public Builder attemptTimeout(Duration d) {
            this.attemptTimeout = positive(d, "attemptTimeout");
            return this;
        }

        /**
         * How rounds over the URL and its mirrors are paced: the backoff between rounds ({@link
         * RetryPolicy#backoffCeiling}, with full jitter if the policy says so), the most rounds ({@link
         * RetryPolicy#maxAttempts()}: each URL is tried at most that often), and the deadline of a request that sets
         * none ({@link RetryPolicy#deadline()}, counted from the start of the fetch). Unreachable, timeout, 5xx and
         * 429 are tried again; 404, other 4xx, TLS trust failures, oversized or malformed answers and refusals end
         * that URL's part in the fetch. Default: {@link RetryPolicy#defaults()}.
         */
        public Builder retryPolicy(RetryPolicy policy) {
            this.retryPolicy = Objects.requireNonNull(policy, "retryPolicy");
            return this;
        }

        /** The clock deadlines are measured on. Default: {@link Clock#systemUTC()}. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** Waits between rounds. Default: {@link Sleeper#SYSTEM}. Tests inject one that advances a fake clock. */
        public Builder sleeper(Sleeper sleeper) {
            this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
            return this;
        }

        /**
         * Randomness for the retry policy's jitter (unused when the policy has none); used by every thread that
         * fetches. Default: each thread's own {@link java.util.concurrent.ThreadLocalRandom}. Tests inject a fixed one.
         */
        public Builder random(RandomGenerator random) {
            this.random = Objects.requireNonNull(random, "random");
            return this;
        }

        /**
         * Ed25519 keys whose signatures are trusted. When any are given, every script must come with a signature
         * ({@code <url>.sig} beside it) verifying under one of them, or it is refused — whatever else is pinned.
         * Default: {@link TrustedKeys#none()}.
         */
        public Builder trustedKeys(TrustedKeys keys) {
            this.trustedKeys = Objects.requireNonNull(keys, "trustedKeys");
            return this;
        }

        /**
         * Signed manifests: every fetched script must be listed, under the name it is asked for (its URL's last path
         * segment), with its SHA-256, in the manifest of its URL's directory ({@code manifest.json} and
         * {@code manifest.json.minisig}), signed by a key that the keys document there ({@code keys.json},
         * {@code keys.json.minisig}) lists and {@link ManifestTrust#root()} signed. The four files are fetched once
         * per fetcher and directory, before the script. A manifest or keys document that is expired, older than the
         * one accepted before (recorded in {@link ManifestTrust#stateFile()}), signed by a revoked key, or that does
         * not verify, is refused ({@code MANIFEST_*} {@link RefusalReason reasons}); so is a script carried in the
         * user-data unless trusted keys vouch for it. A verified script's trust is {@link dev.whatami.status.Trust#SIGNATURE}.
         * Works beside {@link #trustedKeys}: with both, a script needs its own signature too. Default: none.
         */
        public Builder manifestTrust(ManifestTrust trust) {
            this.manifestTrust = Objects.requireNonNull(trust, "manifestTrust");
            return this;
        }

        /**
         * Refuse to build without trusted keys or a {@link #manifestTrust manifest root key}: a policy that no
         * unsigned script ever runs. Default: false.
         */
        public Builder requireSignature(boolean require) {
            this.requireSignature = require;
            return this;
        }

        /** Refuse any URL (primary or mirror) that is not https ({@link RefusalReason#POLICY}). Default: false. */
        public Builder requireHttps(boolean require) {
            this.requireHttps = require;
            return this;
        }

        /**
         * Trust exactly the CAs in this PEM bundle for https (read on the first https use). Default: the system's.
         * Cannot be combined with {@link #httpClient}: build that client with the bundle instead.
         *
         * @throws IllegalArgumentException when the file cannot be read
         */
        public Builder caBundle(Path bundle) {
            Objects.requireNonNull(bundle, "caBundle");
            if (!Files.isReadable(bundle)) {
                throw new IllegalArgumentException("the CA bundle " + bundle + " is not a readable file; give a PEM "
                        + "file of CA certificates to caBundle(...)");
            }
            this.caBundle = bundle;
            return this;
        }

        /** Keep the last good copy of each URL here and revalidate it (If-None-Match → 304). Default: no cache. */
        public Builder cacheDir(Path dir) {
            this.cacheDir = Objects.requireNonNull(dir, "cacheDir");
            return this;
        }

        /** Hears download progress. Default: {@link FetchListener#NONE}. */
        public Builder listener(FetchListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Use this HTTP client; the caller keeps ownership and closes it after the fetcher. The fetcher's policies
         * hold on it too, set per request: redirects are followed by the fetcher (at most 5, only to http(s), never
         * from https to http), no content coding is asked for or decoded, the read timeout and attempt deadline
         * apply. Its connect timeout, TLS trust and connection pool are its own. Default: a client built with
         * {@code HttpClientFactory} and closed by {@link ScriptFetcher#close()}.
         */
        public Builder httpClient(CloseableHttpClient client) {
            this.httpClient = Objects.requireNonNull(client, "httpClient");
            return this;
        }

        /**
         * How {@code s3://} URLs are fetched, asked for once, on the first {@code s3://} URL (so a boot with only http
         * URLs never builds it, nor loads the signer). Default: anonymous requests to AWS in {@code us-east-1} (a
         * bucket elsewhere is found from S3's answer); give {@link S3Access#fromEnvironment} for what AWS's tools
         * read and the instance role's credentials.
         */
        public Builder s3(Supplier<S3Access> access) {
            this.s3 = Objects.requireNonNull(access, "s3");
            return this;
        }

        /**
         * How {@code gs://} URLs are fetched, asked for once, on the first {@code gs://} URL. Default: anonymous
         * requests to Google ({@link GcsAccess#of} with the GCE service account's token is what an instance wants).
         */
        public Builder gcs(Supplier<GcsAccess> access) {
            this.gcs = Objects.requireNonNull(access, "gcs");
            return this;
        }

        /**
         * How Azure blob URLs ({@code https://<account>.blob.core.windows.net/...}) are fetched, asked for once, on the
         * first such URL. Default: anonymous ({@link AzureBlobAccess#of} with the managed identity's token is what a VM
         * wants). A blob URL with a SAS query string is always sent without a token.
         */
        public Builder azureBlob(Supplier<AzureBlobAccess> access) {
            this.azure = Objects.requireNonNull(access, "azureBlob");
            return this;
        }

        /**
         * The fetcher.
         *
         * @throws IllegalArgumentException for {@code requireSignature(true)} without {@link #trustedKeys} or
         *                                  {@link #manifestTrust}, or
         *                                  {@link #caBundle} together with {@link #httpClient}
         */
        public ScriptFetcher build() {
            return new DefaultScriptFetcher(new DefaultScriptFetcher.Settings(connectTimeout, readTimeout,
                    attemptTimeout, retryPolicy, clock, sleeper, Optional.ofNullable(random), httpClient, trustedKeys, requireSignature,
                    requireHttps, Optional.ofNullable(caBundle), Optional.ofNullable(cacheDir), listener,
                    Optional.ofNullable(s3).map(DefaultScriptFetcher::once),
                    Optional.ofNullable(gcs).map(DefaultScriptFetcher::once),
                    Optional.ofNullable(azure).map(DefaultScriptFetcher::once), Optional.ofNullable(manifestTrust)));
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
