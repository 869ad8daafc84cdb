package dev.whatami.fetch.internal;

import dev.whatami.fetch.FetchException;
import dev.whatami.fetch.FetchFailure;
import dev.whatami.fetch.FetchListener;
import dev.whatami.fetch.FetchRefusedException;
import dev.whatami.fetch.FetchRequest;
import dev.whatami.fetch.FetchResult;
import dev.whatami.fetch.IntegrityException;
import dev.whatami.fetch.RefusalReason;
import dev.whatami.fetch.S3Access;
import dev.whatami.fetch.ScriptFetcher;
import dev.whatami.fetch.SignatureRefusedException;
import dev.whatami.fetch.TrustedKeys;
import dev.whatami.metadata.HttpClientFactory;
import dev.whatami.metadata.RetryLoop;
import dev.whatami.metadata.RetryLoop.Outcome;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.metadata.Sleeper;
import dev.whatami.status.Trust;
import dev.whatami.userdata.Redact;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.io.CloseMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The fetcher behind {@link ScriptFetcher#builder()}. */
public final class DefaultScriptFetcher implements ScriptFetcher {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultScriptFetcher.class);

    /** Everything the builder collected. */
    public record Settings(Duration connectTimeout, Duration readTimeout, Duration attemptTimeout,
                           RetryPolicy retryPolicy, Clock clock, Sleeper sleeper, Optional<RandomGenerator> random,
                           CloseableHttpClient httpClient,
                           TrustedKeys trustedKeys, boolean requireSignature, boolean requireHttps,
                           Optional<Path> caBundle, Optional<Path> cacheDir, FetchListener listener,
                           Optional<Supplier<S3Access>> s3, Optional<Supplier<dev.whatami.fetch.GcsAccess>> gcs,
                           Optional<Supplier<dev.whatami.fetch.AzureBlobAccess>> azure,
                           Optional<dev.whatami.fetch.ManifestTrust> manifestTrust) {
    }

    private final Settings s;
    private final CloseableHttpClient owned;
    private final Watchdog watchdog;
    private final Set<Path> live = ConcurrentHashMap.newKeySet();
    private final Download.Context context;
    private final RetryLoop loop;

    /** @throws IllegalArgumentException for settings that cannot work together, naming the builder methods */
    public DefaultScriptFetcher(Settings settings) {
        this.s = settings;
        if (s.requireSignature() && s.trustedKeys().isEmpty() && s.manifestTrust().isEmpty()) {
            throw new IllegalArgumentException("requireSignature(true) needs trusted keys or a manifest root key: give "
                    + "trustedKeys(...) or manifestTrust(...) too");
        }
        if (s.httpClient() != null && s.caBundle().isPresent()) {
            throw new IllegalArgumentException("caBundle(...) cannot apply to a client given with httpClient(...): "
                    + "the fetcher cannot change the trust store of a client it did not build. Build that client with "
                    + "the CA bundle (HttpClientFactory.builder().caBundle(...)), or drop httpClient(...) and let the "
                    + "fetcher build one.");
        }
        if (s.httpClient() == null) {
            HttpClientFactory.Builder b = HttpClientFactory.builder().connectTimeout(s.connectTimeout())
                    .socketTimeout(s.readTimeout());
            s.caBundle().ifPresent(b::caBundle);
            this.owned = b.build();
        } else {
            this.owned = null;
        }
        CloseableHttpClient http = owned != null ? owned : s.httpClient();
        this.watchdog = new Watchdog(s.clock());
        this.loop = s.random().map(r -> RetryLoop.of(s.retryPolicy(), s.clock(), s.sleeper(), r))
                .orElseGet(() -> RetryLoop.of(s.retryPolicy(), s.clock(), s.sleeper()));
        this.context = new Download.Context(new Exchange(http, s.readTimeout()),
                s.cacheDir().map(dir -> new HttpCache(dir, live)), s.trustedKeys(), s.listener(), live, s.clock(),
                this::origin, s.manifestTrust().map(m -> new Manifests(m, s.clock())));
    }

    private volatile Origin s3Origin;
    private volatile Origin gcsOrigin;
    private volatile Origin azureOrigin;

    /**
     * The origin of a URL. Cloud origins are made on first use (from their settings' suppliers), so a fetcher that only
     * ever sees http(s) loads none of their classes: the tests here look at the scheme and host name only.
     */
    private Origin origin(URI url) {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        String host = url.getHost() == null ? "" : url.getHost().toLowerCase(Locale.ROOT);
        if (scheme.equals("s3")) {
            return cached(0);
        }
        if (scheme.equals("gs")) {
            return cached(1);
        }
        if (scheme.equals("https") && host.endsWith(".blob.core.windows.net")) {
            return cached(2);
        }
        return Origin.PLAIN;
    }

    private synchronized Origin cached(int which) {
        switch (which) {
            case 0 -> {
                if (s3Origin == null) {
                    s3Origin = CloudOrigins.s3(s.s3().map(Supplier::get).orElseGet(() -> S3Access.builder().build()),
                            s.clock());
                }
                return s3Origin;
            }
            case 1 -> {
                if (gcsOrigin == null) {
                    gcsOrigin = CloudOrigins.gcs(s.gcs().map(Supplier::get).orElseGet(() -> dev.whatami.fetch.GcsAccess
                            .of(dev.whatami.fetch.CloudCredentials.anonymous())));
                }
                return gcsOrigin;
            }
            default -> {
                if (azureOrigin == null) {
                    azureOrigin = CloudOrigins.azure(s.azure().map(Supplier::get).orElseGet(() ->
                            dev.whatami.fetch.AzureBlobAccess.of(dev.whatami.fetch.CloudCredentials.anonymous())),
                            s.clock());
                }
                return azureOrigin;
            }
        }
    }

    /** One URL of the request, across rounds. */
    private static final class Source {
        final Download download;
        boolean live = true;
        int attempts;
        Instant notBefore = Instant.MIN;
        AttemptFailed last;

        Source(Download download) {
            this.download = download;
        }
    }

    @Override
    public FetchResult fetch(FetchRequest request) {
        refuseByPolicy(request);
        Staging.removeStale(request.targetDir(), live);
        Run run = new Run(request);
        try {
            return loop.run(run.deadline, run::round, run::gaveUp);
        } finally {
            for (Source src : run.sources) {
                src.download.close();
            }
        }
    }

    /**
     * One fetch: each of the loop's attempts is a round over the URLs still in play (the main one, then the mirrors),
     * each tried once unless its {@code Retry-After} has not passed yet.
     */
    private final class Run {
        final FetchRequest request;
        final Instant start = s.clock().instant();
        final Instant deadline;
        final String deadlineWhat;
        final List<Source> sources = new ArrayList<>();
        int attempts;

        Run(FetchRequest request) {
            this.request = request;
            this.deadline = request.deadline().orElse(start.plus(s.retryPolicy().deadline()));
            this.deadlineWhat = request.deadline().isPresent() ? "the fetch's deadline"
                    : "the retry policy's deadline (" + seconds(s.retryPolicy().deadline()) + ")";
            for (URI u : request.allUrls()) {
                sources.add(new Source(new Download(u, request, context, origin(u))));
            }
        }

        Outcome<FetchResult> round(int round) {
            for (Source src : sources) {
                Instant now = s.clock().instant();
                if (!now.isBefore(deadline)) {
                    throw outcome(request, sources, attempts, Duration.between(start, now), deadlineWhat);
                }
                if (!src.live || src.notBefore.isAfter(now)) {
                    continue;
                }
                attempts++;
                src.attempts++;
                Instant attemptEnd = now.plus(s.attemptTimeout());
                boolean cutByDeadline = !attemptEnd.isBefore(deadline);
                String what = cutByDeadline ? deadlineWhat : "the attempt's deadline (attemptTimeout "
                        + seconds(s.attemptTimeout()) + ")";
                try (Watchdog.Scope scope = watchdog.arm(cutByDeadline ? deadline : attemptEnd, what)) {
                    FetchResult r = src.download.attempt(scope);
                    if (LOG.isDebugEnabled()) {
                        LOG.debug("fetched {} ({} bytes, sha256 {}, trust {}) after {} attempt(s)",
                                Redact.url(r.source()), r.size(), r.sha256(), r.trust().token(), attempts);
                    }
                    return Outcome.done(new FetchResult(r.path(), r.source(), r.sha256(), r.size(), r.trust(),
                            attempts));
                } catch (AttemptFailed f) {
                    src.last = f;
                    if (LOG.isDebugEnabled()) {
                        LOG.debug("attempt {} on {} failed: {} ({})", src.attempts,
                                Redact.url(src.download.url()), f.getMessage(), f.failure);
                    }
                    if (f.endsFetch()) {
                        throw new FetchException(f.failure, "could not fetch " + request.fileName() + ": "
                                + f.getMessage() + (f.failure == FetchFailure.LOCAL_IO ? "; check that "
                                + request.targetDir() + " is writable and has space" : ""), request.url(),
                                attempts, failures(sources), f.getCause());
                    }
                    if (!f.retried()) {
                        src.live = false;
                    } else if (f.retryAfter.isPresent()) {
                        src.notBefore = s.clock().instant().plus(f.retryAfter.get());
                    }
                }
            }
            if (sources.stream().noneMatch(x -> x.live)) {
                throw outcome(request, sources, attempts, Duration.between(start, s.clock().instant()), null);
            }
            // the next round waits the backoff, or until the first URL still in play may be asked again (every one
            // of them asked, with Retry-After, to wait longer)
            Instant earliest = sources.stream().filter(x -> x.live).map(x -> x.notBefore).min(Instant::compareTo)
                    .orElseThrow();
            return Outcome.retry(null, earliest.equals(Instant.MIN) ? Duration.ZERO
                    : Duration.between(s.clock().instant(), earliest));
        }

        FetchResult gaveUp(RetryLoop.Stop stop) {
            if (stop.reason() == RetryLoop.Stop.Reason.INTERRUPTED) {
                throw new FetchException(FetchFailure.INTERRUPTED, "interrupted while waiting to fetch "
                        + request.fileName() + " again", request.url(), attempts, failures(sources), stop.cause());
            }
            throw outcome(request, sources, attempts, Duration.between(start, s.clock().instant()),
                    stop.reason() == RetryLoop.Stop.Reason.DEADLINE ? deadlineWhat : null);
        }
    }

    private void refuseByPolicy(FetchRequest request) {
        for (URI u : request.allUrls()) {
            if (u.getRawUserInfo() != null) {
                throw new FetchRefusedException(RefusalReason.POLICY, "refused " + Redact.url(u) + ": a URL with "
                        + "credentials in it (user:password@) is not used, as they would be sent in the clear and "
                        + "shown wherever the URL is; serve the script without them, or give a presigned URL", u, 0);
            }
            if (s.requireHttps() && !u.getScheme().equalsIgnoreCase("https") && !(u.getScheme()
                    .equalsIgnoreCase("s3") && s3IsHttps()) && !(u.getScheme().equalsIgnoreCase("gs")
                    && s.gcs().map(g -> g.get().endpoint().getScheme().equalsIgnoreCase("https")).orElse(true))) {
                throw new FetchRefusedException(RefusalReason.POLICY, "refused " + Redact.url(u) + ": https is "
                        + "required (requireHttps(true)) and this URL is " + u.getScheme().toLowerCase(Locale.ROOT)
                        + "; serve the script over https, or do not require https", u, 0);
            }
        }
    }

    /** {@code supplier}, asked once, on first use. */
    public static <T> Supplier<T> once(Supplier<T> supplier) {
        return new Supplier<>() {
            private volatile T value;

            @Override
            public T get() {
                T v = value;
                if (v == null) {
                    synchronized (this) {
                        if (value == null) {
                            value = Objects.requireNonNull(supplier.get(), "the settings supplier returned null");
                        }
                        v = value;
                    }
                }
                return v;
            }
        };
    }

    private boolean s3IsHttps() {
        S3Access a = s.s3().map(Supplier::get).orElseGet(() -> S3Access.builder().build());
        return a.endpoint().map(e -> e.getScheme().equalsIgnoreCase("https")).orElse(true);
    }

    private static Map<URI, FetchFailure> failures(List<Source> sources) {
        Map<URI, FetchFailure> m = new LinkedHashMap<>();
        for (Source src : sources) {
            if (src.last != null) {
                m.put(src.download.url(), src.last.failure);
            }
        }
        return m;
    }

    /** The exception for a fetch that did not succeed: refused if every URL was refused, else not fetched. */
    private FetchException outcome(FetchRequest request, List<Source> sources, int attempts, Duration elapsed,
                                   String stoppedBy) {
        Map<URI, FetchFailure> failures = failures(sources);
        boolean allRefused = sources.stream().allMatch(x -> x.last != null && x.last.failure == FetchFailure.REFUSED);
        if (allRefused) {
            FetchRefusedException first = sources.get(0).last.refusal;
            String message = first.getMessage();
            if (sources.size() > 1) {
                List<String> others = new ArrayList<>();
                for (Source src : sources.subList(1, sources.size())) {
                    others.add(Redact.url(src.download.url()) + " (" + src.last.getMessage() + ")");
                }
                message += " The mirrors were refused too: " + String.join("; ", others) + ".";
            }
            if (first instanceof IntegrityException ie) {
                return new IntegrityException(message, ie.url(), ie.expected(), ie.actual(), attempts, failures);
            }
            if (first instanceof SignatureRefusedException) {
                return new SignatureRefusedException(first.reason(), message, first.url(), attempts, failures);
            }
            return new FetchRefusedException(first.reason(), message, first.url(), attempts, failures);
        }
        List<String> tried = new ArrayList<>();
        FetchFailure failure = null;
        for (Source src : sources) {
            if (src.last == null) {
                tried.add(Redact.url(src.download.url()) + " (not tried before the deadline)");
                continue;
            }
            if (failure == null && src.last.failure != FetchFailure.REFUSED) {
                failure = src.last.failure;
            }
            tried.add(Redact.url(src.download.url()) + " (" + (src.attempts > 1 ? src.attempts + " attempts, last: "
                    : "") + src.last.getMessage() + ")");
        }
        if (failure == null) {
            failure = FetchFailure.TIMEOUT; // the deadline passed before any attempt
        }
        String stopped = stoppedBy == null ? "" : "; gave up at " + stoppedBy + " after " + attempts
                + (attempts == 1 ? " attempt" : " attempts") + " over " + seconds(elapsed);
        return new FetchException(failure, "could not fetch " + request.fileName() + ": tried "
                + String.join("; ", tried) + stopped + ". " + advice(failure), request.url(), attempts, failures,
                sources.get(0).last == null ? null : sources.get(0).last.getCause());
    }

    private static String advice(FetchFailure failure) {
        return switch (failure) {
            case NOT_FOUND -> "Check that the file server is up and serves the file at that URL (or add a mirror=).";
            case TLS -> "Give the fetcher the CA that issued the server's certificate (caBundle(...)), or fix the "
                    + "certificate; nothing ran, and the next run tries again.";
            case CLIENT_ERROR -> "The server will not give the file to this machine: check its permissions for that "
                    + "path.";
            case TOO_LARGE -> "Serve a smaller file, or raise the limit (FetchRequest.Builder.maxBytes(...)).";
            case BAD_RESPONSE -> "Fix the server (or the proxy or CDN before it) as said; nothing ran.";
            default -> "Check that the file server is up and reachable from this machine (or add a mirror=); nothing "
                    + "ran, and the next run tries again.";
        };
    }

    private static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    @Override
    public FetchResult placeInline(byte[] content, URI source, Path targetDir, String fileName) {
        return placeInline(content, source, targetDir, fileName, Optional.empty());
    }

    @Override
    public FetchResult placeInline(byte[] content, URI source, Path targetDir, String fileName,
                                   Optional<byte[]> signature) {
        refuseInlineWithoutKeys(source, fileName);
        Staging.removeStale(targetDir, live);
        try (Staging staging = new Staging(targetDir, fileName, Optional.empty(), Math.max(1, content.length),
                s.trustedKeys(), live)) {
            staging.copyFrom(new ByteArrayInputStream(content), fileName, n -> { });
            Trust trust = Trust.USER_DATA;
            if (!s.trustedKeys().isEmpty()) {
                String what = "the script " + fileName + " carried in the user-data";
                Optional<byte[]> decoded = signature.flatMap(TrustedKeys::decodeSignature);
                if (signature.isEmpty()) {
                    throw new SignatureRefusedException(RefusalReason.SIGNATURE_MISSING, "refused " + what + ": trusted "
                            + "keys are configured and it carries no signature; sign it (whatami-server sign) and "
                            + "give the signature with it in the user-data", source, 0);
                }
                if (decoded.isEmpty() || staging.signer(decoded.get()).isEmpty()) {
                    throw new SignatureRefusedException(RefusalReason.SIGNATURE_INVALID, "refused " + what + ": its "
                            + "signature does not verify with any trusted key (" + String.join(", ",
                            s.trustedKeys().names()) + "); sign it again with the owner's key", source, 0);
                }
                trust = Trust.SIGNATURE;
            }
            String sha256 = staging.sha256Hex();
            Path target = targetDir.resolve(fileName);
            staging.commit(target, Staging.EXECUTABLE);
            return new FetchResult(target, source, sha256, content.length, trust, 0);
        } catch (IOException e) {
            throw new FetchException(FetchFailure.LOCAL_IO, "could not store " + fileName + " in " + targetDir + ": "
                    + e.getMessage() + "; check that the directory is writable and has space", source, 0, e);
        }
    }

    /**
     * With a manifest root key and no trusted keys, nothing can vouch for a script carried in the user-data: no
     * manifest lists it. (With trusted keys too, its own signature can.)
     */
    private void refuseInlineWithoutKeys(URI source, String fileName) {
        if (s.manifestTrust().isPresent() && s.trustedKeys().isEmpty()) {
            throw new FetchRefusedException(RefusalReason.MANIFEST_MISSING, "refused the script " + fileName
                    + " carried in the user-data: a manifest root key is configured, and no manifest can list a "
                    + "script carried in the user-data; put it on the file server, list it in the manifest there "
                    + "(whatami-server manifest sign --dir DIR) and name its URL in the user-data", source, 0);
        }
    }

    @Override
    public void close() {
        watchdog.close();
        if (owned != null) {
            owned.close(CloseMode.GRACEFUL);
        }
    }
}
