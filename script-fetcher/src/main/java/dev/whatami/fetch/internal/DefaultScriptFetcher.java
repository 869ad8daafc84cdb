package dev.whatami.fetch.internal;

import dev.whatami.fetch.FetchException;
import dev.whatami.fetch.FetchListener;
import dev.whatami.fetch.FetchRequest;
import dev.whatami.fetch.FetchResult;
import dev.whatami.fetch.IntegrityException;
import dev.whatami.fetch.ScriptFetcher;
import dev.whatami.fetch.SignatureRefusedException;
import dev.whatami.fetch.Sleeper;
import dev.whatami.fetch.TrustLevel;
import dev.whatami.fetch.TrustedKeys;
import dev.whatami.metadata.internal.LazyTls;
import dev.whatami.userdata.Digest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.ClientProtocolException;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The fetcher behind {@link ScriptFetcher#builder()}. */
public final class DefaultScriptFetcher implements ScriptFetcher {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultScriptFetcher.class);
    static final int MAX_REDIRECTS = 5;
    static final int MAX_SIGNATURE_BYTES = 4096;

    /** Everything the builder collected. */
    public record Settings(Duration connectTimeout, Duration readTimeout, int attemptsPerUrl, Duration baseDelay,
                           Duration maxDelay, Duration maxRetryAfter, Sleeper sleeper, CloseableHttpClient httpClient,
                           TrustedKeys trustedKeys, boolean requireSignature, boolean requireHttps,
                           Optional<Path> caBundle, Optional<Path> cacheDir, FetchListener listener) {
    }

    private final Settings s;
    private final CloseableHttpClient http;
    private final CloseableHttpClient owned;
    private final RequestConfig requestConfig;
    private final Optional<HttpCache> cache;

    public DefaultScriptFetcher(Settings settings) {
        this.s = settings;
        if (s.requireSignature() && s.trustedKeys().isEmpty()) {
            throw new IllegalArgumentException("requireSignature needs trusted keys: give trustedKeys(...) (the "
                    + "agent: --trusted-keys DIR)");
        }
        this.requestConfig = RequestConfig.custom()
                .setResponseTimeout(Timeout.of(s.readTimeout().toMillis(), TimeUnit.MILLISECONDS))
                .setRedirectsEnabled(true)
                .setMaxRedirects(MAX_REDIRECTS)
                .build();
        this.owned = s.httpClient() == null ? HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setTlsSocketStrategy(new LazyTls(s.caBundle()))
                        .setDefaultConnectionConfig(ConnectionConfig.custom()
                                .setConnectTimeout(Timeout.of(s.connectTimeout().toMillis(), TimeUnit.MILLISECONDS))
                                .setSocketTimeout(Timeout.of(s.readTimeout().toMillis(), TimeUnit.MILLISECONDS))
                                .build())
                        .build())
                .setRedirectStrategy(new NoDowngradeRedirects())
                .disableAutomaticRetries()
                .disableCookieManagement()
                .setDefaultCookieSpecRegistry(name -> null) // else built anyway, reading the public suffix list (~20 ms)
                .disableAuthCaching()
                .disableContentCompression() // the digest is over the file as served, byte for byte
                .build() : null;
        this.http = s.httpClient() == null ? owned : s.httpClient();
        this.cache = s.cacheDir().map(HttpCache::new);
    }

    /** Worth another attempt on the same URL: I/O errors, 5xx, 429. */
    private static final class Retryable extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient Optional<Duration> retryAfter;

        Retryable(String message, Throwable cause, Optional<Duration> retryAfter) {
            super(message, cause);
            this.retryAfter = retryAfter;
        }
    }

    /** Another attempt on the same URL will not help: 404, other 4xx, a bad digest or signature, too large. */
    private static final class Final extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient FetchException refusal;

        Final(String message, FetchException refusal) {
            super(message);
            this.refusal = refusal;
        }
    }

    @Override
    public FetchResult fetch(FetchRequest request) {
        for (URI u : request.allUrls()) {
            if (s.requireHttps() && !u.getScheme().equalsIgnoreCase("https")) {
                throw new FetchException("refused " + u + ": https is required (--require-https) and this URL is "
                        + u.getScheme() + "; serve the script over https or drop --require-https", u, 0, null);
            }
        }
        List<String> tried = new ArrayList<>();
        FetchException refusal = null;
        int attempts = 0;
        for (URI url : request.allUrls()) {
            try (Download d = new Download(url, request)) {
                for (int attempt = 1; attempt <= s.attemptsPerUrl(); attempt++) {
                    attempts++;
                    try {
                        FetchResult result = d.attempt();
                        LOG.debug("fetched {} ({} bytes, sha256 {}, trust {}) after {} attempt(s)", url, result.size(),
                                result.sha256(), result.trust().token(), attempts);
                        return result;
                    } catch (Retryable e) {
                        LOG.debug("attempt {} on {} failed: {}", attempt, url, e.getMessage());
                        if (attempt == s.attemptsPerUrl()) {
                            tried.add(url + " (" + s.attemptsPerUrl() + " attempts, last: " + e.getMessage() + ")");
                        } else {
                            pause(attempt, e.retryAfter, url, attempts);
                        }
                    } catch (Final e) {
                        LOG.debug("{} failed: {}", url, e.getMessage());
                        tried.add(url + " (" + e.getMessage() + ")");
                        if (e.refusal != null) {
                            refusal = e.refusal;
                        }
                        break;
                    }
                }
            } catch (IOException e) {
                tried.add(url + " (cannot stage the file in " + request.targetDir() + ": " + e.getMessage() + ")");
            }
        }
        if (refusal != null) {
            throw refusal;
        }
        throw new FetchException("could not fetch " + request.fileName() + ": tried " + String.join("; ", tried)
                + ". Check that the file server is up and serves the file at that URL (or add a mirror=).",
                request.url(), attempts, null);
    }

    private void pause(int attempt, Optional<Duration> retryAfter, URI url, int attempts) {
        Duration wait = s.baseDelay().multipliedBy(1L << Math.min(attempt - 1, 20));
        if (wait.compareTo(s.maxDelay()) > 0) {
            wait = s.maxDelay();
        }
        if (retryAfter.isPresent() && retryAfter.get().compareTo(wait) > 0) {
            // the server said when: honour it, within reason
            wait = retryAfter.get().compareTo(s.maxRetryAfter()) > 0 ? s.maxRetryAfter() : retryAfter.get();
        }
        try {
            s.sleeper().sleep(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FetchException("interrupted while waiting to retry " + url, url, attempts, e);
        }
    }

    /** One URL's download: its staging file lives across attempts, so a dropped connection resumes. */
    private final class Download implements AutoCloseable {
        private final URI url;
        private final FetchRequest request;
        private final Staging staging;
        private String etag;
        private OptionalLong total = OptionalLong.empty();

        Download(URI url, FetchRequest request) throws IOException {
            this.url = url;
            this.request = request;
            this.staging = new Staging(request.targetDir(), request.fileName(), request.digest(), request.maxBytes(),
                    s.trustedKeys());
        }

        FetchResult attempt() throws Retryable, Final, IOException {
            if (url.getScheme().equalsIgnoreCase("file")) {
                staging.restart();
                try (InputStream in = Files.newInputStream(Path.of(url))) {
                    copy(in);
                } catch (NoSuchFileException e) {
                    throw new Final("no such file", null);
                }
                return finish(TrustLevel.NONE, null);
            }
            TrustLevel transport = url.getScheme().equalsIgnoreCase("https") ? TrustLevel.TRANSPORT : TrustLevel.NONE;
            ClassicRequestBuilder get = ClassicRequestBuilder.get(url);
            boolean resuming = staging.size() > 0 && etag != null;
            if (resuming) {
                get.addHeader("Range", "bytes=" + staging.size() + "-");
                get.addHeader("If-Range", etag);
            } else {
                staging.restart();
                cache.flatMap(c -> c.lookup(url)).ifPresent(entry -> entry.addValidators(get));
            }
            HttpClientContext context = HttpClientContext.create();
            context.setRequestConfig(requestConfig);
            try {
                return http.execute(get.build(), context, response -> handle(response, resuming, transport));
            } catch (Unchecked u) {
                throw u.rethrow();
            } catch (Staging.TooLargeException e) {
                throw new Final(e.getMessage(), null);
            } catch (ClientProtocolException e) {
                // a refused redirect or a broken response: the same URL will answer the same way
                throw new Final(e.getCause() != null ? e.getCause().getMessage() : e.getMessage(), null);
            } catch (IOException e) {
                String m = e.getMessage();
                throw new Retryable(e.getClass().getSimpleName() + (m == null ? "" : ": " + m)
                        + (staging.size() > 0 ? " after " + staging.size() + " bytes" : ""), e, Optional.empty());
            }
        }

        private FetchResult handle(ClassicHttpResponse response, boolean resuming, TrustLevel transport)
                throws IOException {
            int status = response.getCode();
            HttpEntity entity = response.getEntity();
            if (status == 304 && !resuming && cache.isPresent()) {
                Optional<HttpCache.Entry> entry = cache.get().lookup(url);
                if (entry.isPresent()) {
                    LOG.debug("{} not modified: using the cached copy", url);
                    staging.restart();
                    try (InputStream in = Files.newInputStream(entry.get().body())) {
                        copy(in);
                    }
                    return wrap(() -> finish(transport, entry.get()));
                }
            }
            if (status == 200 || (status == 206 && resuming)) {
                if (status == 200) {
                    if (resuming) {
                        LOG.debug("{} ignored the Range request: downloading it whole again", url);
                    }
                    staging.restart();
                }
                // If-Range needs a strong validator: a strong ETag, else the Last-Modified date (RFC 9110 13.1.5)
                Header tag = response.getFirstHeader("ETag");
                Header modified = response.getFirstHeader("Last-Modified");
                etag = tag != null && !tag.getValue().startsWith("W/") ? tag.getValue()
                        : modified != null ? modified.getValue() : null;
                long length = entity == null ? -1 : entity.getContentLength();
                if (length >= 0) {
                    total = OptionalLong.of(staging.size() + length);
                    if (total.getAsLong() > request.maxBytes()) {
                        throw new Unchecked(new Final("HTTP " + status + " but " + total.getAsLong()
                                + " bytes, larger than the " + request.maxBytes() + "-byte limit", null));
                    }
                }
                try (InputStream in = entity == null ? InputStream.nullInputStream() : entity.getContent()) {
                    copy(in);
                }
                FetchResult result = wrap(() -> finish(transport, null));
                cache.ifPresent(c -> c.store(url, response, result.path()));
                return result;
            }
            String what = "HTTP " + status + (response.getReasonPhrase() == null ? "" : " " + response.getReasonPhrase());
            if (status >= 500 || status == 429) {
                throw new Unchecked(new Retryable(what, null, retryAfter(response)));
            }
            throw new Unchecked(new Final(what, null));
        }

        private void copy(InputStream in) throws IOException {
            staging.copyFrom(in, url.toString(), bytes -> s.listener().progress(url, bytes, total));
        }

        /** Verifies digest and signature, then places the file. */
        private FetchResult finish(TrustLevel transport, HttpCache.Entry cached) throws Final, IOException {
            TrustLevel trust = transport;
            if (request.digest().isPresent()) {
                Digest expected = request.digest().get();
                Digest actual = staging.actual(expected.algorithm());
                if (!actual.equals(expected)) {
                    throw new Final(expected.algorithm().key() + " mismatch",
                            new IntegrityException(url, expected, actual, 1));
                }
                trust = TrustLevel.PIN;
            }
            if (!s.trustedKeys().isEmpty()) {
                byte[] sig = cached != null && cached.signature().isPresent() ? cached.signature().get() : signature();
                Optional<byte[]> decoded = TrustedKeys.decodeSignature(sig);
                if (decoded.isEmpty()) {
                    throw new Final("bad signature file", new SignatureRefusedException("refused " + url + ": "
                            + url + ".sig is not an Ed25519 signature (base64 of 64 bytes, or the raw 64 bytes); "
                            + "sign with: whatami-server sign --key KEY " + request.fileName(), url, 1));
                }
                String signer = null;
                for (TrustedKeys.Verifier v : staging.verifiers()) {
                    if (v.verify(decoded.get())) {
                        signer = v.name();
                        break;
                    }
                }
                if (signer == null) {
                    throw new Final("signature does not verify", new SignatureRefusedException("refused " + url
                            + ": its signature does not verify with any trusted key (" + String.join(", ",
                            s.trustedKeys().names()) + "). The script changed after it was signed, or was signed by "
                            + "a key this machine does not trust; sign it again with the owner's key.", url, 1));
                }
                LOG.debug("{} is signed by {}", url, signer);
                if (cache.isPresent() && cached == null) {
                    cache.get().storeSignature(url, sig);
                }
                trust = TrustLevel.SIGNATURE;
            }
            String sha256 = staging.sha256Hex();
            long size = staging.size();
            Path target = request.targetDir().resolve(request.fileName());
            staging.commit(target);
            return new FetchResult(target, url, sha256, size, trust);
        }

        /** {@code <url>.sig}, fetched once, small. */
        private byte[] signature() throws Final {
            URI sigUrl = URI.create(url + ".sig");
            try {
                if (url.getScheme().equalsIgnoreCase("file")) {
                    return Files.readAllBytes(Path.of(sigUrl));
                }
                HttpClientContext context = HttpClientContext.create();
                context.setRequestConfig(requestConfig);
                return http.execute(ClassicRequestBuilder.get(sigUrl).build(), context, response -> {
                    if (response.getCode() != 200) {
                        throw new IOException("HTTP " + response.getCode());
                    }
                    try (InputStream in = response.getEntity().getContent()) {
                        return in.readNBytes(MAX_SIGNATURE_BYTES);
                    }
                });
            } catch (IOException e) {
                throw new Final("no signature", new SignatureRefusedException("refused " + url + ": trusted keys are "
                        + "configured and it has no signature at " + sigUrl + " (" + e.getMessage() + "); unsigned "
                        + "scripts never run here. Sign it: whatami-server sign --key KEY " + request.fileName(),
                        url, 1));
            }
        }

        @Override
        public void close() throws IOException {
            staging.close();
        }
    }

    /** Carries checked failures out of HttpClient's response handler. */
    private static final class Unchecked extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final Exception cause;

        Unchecked(Exception cause) {
            super(null, null, false, false);
            this.cause = cause;
        }

        /** Throws the carried failure; the return type only lets callers write {@code throw u.rethrow()}. */
        IllegalStateException rethrow() throws Retryable, Final {
            if (cause instanceof Retryable r) {
                throw r;
            }
            if (cause instanceof Final f) {
                throw f;
            }
            return new IllegalStateException(cause);
        }
    }

    private interface Step {
        FetchResult run() throws Final, IOException;
    }

    private static FetchResult wrap(Step step) throws IOException {
        try {
            return step.run();
        } catch (Final f) {
            throw new Unchecked(f);
        }
    }

    /** {@code Retry-After} as seconds or an HTTP date (parsed by HttpClient's own {@code DateUtils}). */
    static Optional<Duration> retryAfter(ClassicHttpResponse response) {
        Header h = response.getFirstHeader("Retry-After");
        if (h == null) {
            return Optional.empty();
        }
        String v = h.getValue().strip();
        try {
            return Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(v))));
        } catch (NumberFormatException e) {
            java.time.Instant when = org.apache.hc.client5.http.utils.DateUtils.parseStandardDate(v);
            if (when == null) {
                return Optional.empty();
            }
            Duration d = Duration.between(java.time.Instant.now(), when);
            return Optional.of(d.isNegative() ? Duration.ZERO : d);
        }
    }

    @Override
    public FetchResult placeInline(byte[] content, URI source, Path targetDir, String fileName) {
        try (Staging staging = new Staging(targetDir, fileName, Optional.empty(), Math.max(1, content.length))) {
            staging.copyFrom(new ByteArrayInputStream(content), fileName);
            String sha256 = staging.sha256Hex();
            Path target = targetDir.resolve(fileName);
            staging.commit(target);
            return new FetchResult(target, source, sha256, content.length, TrustLevel.USER_DATA);
        } catch (IOException e) {
            throw new FetchException("could not store " + fileName + " in " + targetDir + ": " + e.getMessage()
                    + "; check that the state directory is writable and has space", source, 1, e);
        }
    }

    @Override
    public void close() {
        if (owned != null) {
            try {
                owned.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
