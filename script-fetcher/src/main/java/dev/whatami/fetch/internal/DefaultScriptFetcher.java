package dev.whatami.fetch.internal;

import dev.whatami.fetch.FetchException;
import dev.whatami.fetch.FetchRequest;
import dev.whatami.fetch.FetchResult;
import dev.whatami.fetch.IntegrityException;
import dev.whatami.fetch.ScriptFetcher;
import dev.whatami.fetch.Sleeper;
import dev.whatami.fetch.TrustLevel;
import dev.whatami.userdata.Digest;
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
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.protocol.HttpClientContext;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.io.support.ClassicRequestBuilder;
import org.apache.hc.core5.util.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The fetcher behind {@link ScriptFetcher#builder()}. */
public final class DefaultScriptFetcher implements ScriptFetcher {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultScriptFetcher.class);
    static final int MAX_REDIRECTS = 5;

    private final CloseableHttpClient http;
    private final CloseableHttpClient owned;
    private final RequestConfig requestConfig;
    private final int attemptsPerUrl;
    private final Duration baseDelay;
    private final Duration maxDelay;
    private final Sleeper sleeper;

    public DefaultScriptFetcher(Duration connectTimeout, Duration readTimeout, int attemptsPerUrl, Duration baseDelay,
                                Duration maxDelay, Sleeper sleeper, CloseableHttpClient httpClient) {
        this.requestConfig = RequestConfig.custom()
                .setResponseTimeout(Timeout.of(readTimeout.toMillis(), TimeUnit.MILLISECONDS))
                .setRedirectsEnabled(true)
                .setMaxRedirects(MAX_REDIRECTS)
                .build();
        this.owned = httpClient == null ? HttpClients.custom()
                .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                        .setTlsSocketStrategy(new LazyTls())
                        .setDefaultConnectionConfig(ConnectionConfig.custom()
                                .setConnectTimeout(Timeout.of(connectTimeout.toMillis(), TimeUnit.MILLISECONDS))
                                .setSocketTimeout(Timeout.of(readTimeout.toMillis(), TimeUnit.MILLISECONDS))
                                .build())
                        .build())
                .setRedirectStrategy(new NoDowngradeRedirects())
                .disableAutomaticRetries()
                .disableCookieManagement()
                .disableAuthCaching()
                .build() : null;
        this.http = httpClient == null ? owned : httpClient;
        this.attemptsPerUrl = attemptsPerUrl;
        this.baseDelay = baseDelay;
        this.maxDelay = maxDelay;
        this.sleeper = sleeper;
    }

    /** Failures worth another attempt on the same URL: I/O errors, 5xx, 429. */
    private static final class Retryable extends Exception {
        private static final long serialVersionUID = 1L;

        Retryable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Failures that another attempt on the same URL will not fix: 404, other 4xx, a pin mismatch. */
    private static final class Final extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient IntegrityException integrity;

        Final(String message, IntegrityException integrity) {
            super(message);
            this.integrity = integrity;
        }
    }

    @Override
    public FetchResult fetch(FetchRequest request) {
        List<String> tried = new ArrayList<>();
        IntegrityException integrity = null;
        int attempts = 0;
        for (URI url : request.allUrls()) {
            for (int attempt = 1; attempt <= attemptsPerUrl; attempt++) {
                attempts++;
                try {
                    FetchResult result = fetchOnce(url, request);
                    LOG.debug("fetched {} ({} bytes, sha256 {}) on attempt {}", url, result.size(), result.sha256(),
                            attempts);
                    return result;
                } catch (Retryable e) {
                    LOG.debug("attempt {} on {} failed: {}", attempt, url, e.getMessage());
                    if (attempt == attemptsPerUrl) {
                        tried.add(url + " (" + attemptsPerUrl + " attempts, last: " + e.getMessage() + ")");
                    } else {
                        pause(attempt, url, attempts);
                    }
                } catch (Final e) {
                    LOG.debug("{} failed: {}", url, e.getMessage());
                    tried.add(url + " (" + e.getMessage() + ")");
                    if (e.integrity != null) {
                        integrity = new IntegrityException(url,
                                e.integrity.expected(), e.integrity.actual(), attempts);
                    }
                    break;
                }
            }
        }
        if (integrity != null) {
            throw integrity;
        }
        throw new FetchException("could not fetch " + request.fileName() + ": tried " + String.join("; ", tried)
                + ". Check that the file server is up and serves the file at that URL (or add a mirror=).",
                request.url(), attempts, null);
    }

    @Override
    public FetchResult placeInline(byte[] content, URI source, Path targetDir, String fileName) {
        try {
            return place(new java.io.ByteArrayInputStream(content), source, targetDir, fileName,
                    java.util.Optional.empty(), Math.max(1, content.length), TrustLevel.USER_DATA);
        } catch (IOException | Final e) {
            throw new FetchException("could not store " + fileName + " in " + targetDir + ": " + e.getMessage()
                    + "; check that the state directory is writable and has space", source, 1, e);
        }
    }

    private void pause(int attempt, URI url, int attempts) {
        Duration wait = baseDelay.multipliedBy(1L << Math.min(attempt - 1, 20));
        if (wait.compareTo(maxDelay) > 0) {
            wait = maxDelay;
        }
        try {
            sleeper.sleep(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FetchException("interrupted while waiting to retry " + url, url, attempts, e);
        }
    }

    private FetchResult fetchOnce(URI url, FetchRequest request) throws Retryable, Final {
        String scheme = url.getScheme().toLowerCase(Locale.ROOT);
        try {
            if (scheme.equals("file")) {
                Path source = Path.of(url);
                try (InputStream in = Files.newInputStream(source)) {
                    return place(in, url, request, TrustLevel.NONE);
                } catch (NoSuchFileException e) {
                    throw new Final("no such file", null);
                }
            }
            HttpClientContext context = HttpClientContext.create();
            context.setRequestConfig(requestConfig);
            TrustLevel transport = scheme.equals("https") ? TrustLevel.TRANSPORT : TrustLevel.NONE;
            return http.execute(ClassicRequestBuilder.get(url).build(), context, response -> {
                int status = response.getCode();
                HttpEntity entity = response.getEntity();
                if (status == 200) {
                    if (entity != null && entity.getContentLength() > request.maxBytes()) {
                        throw new UncheckedFinal(new Final("HTTP 200 but " + entity.getContentLength()
                                + " bytes, larger than the " + request.maxBytes() + "-byte limit", null));
                    }
                    try (InputStream in = entity == null ? InputStream.nullInputStream() : entity.getContent()) {
                        return place(in, url, request, transport);
                    } catch (Final f) {
                        throw new UncheckedFinal(f);
                    }
                }
                String what = "HTTP " + status + (response.getReasonPhrase() == null ? ""
                        : " " + response.getReasonPhrase());
                if (status >= 500 || status == 429) {
                    throw new UncheckedRetryable(new Retryable(what, null));
                }
                throw new UncheckedFinal(new Final(what, null));
            });
        } catch (UncheckedFinal e) {
            throw e.final_;
        } catch (UncheckedRetryable e) {
            throw e.retryable;
        } catch (Staging.TooLargeException e) {
            throw new Final(e.getMessage(), null);
        } catch (org.apache.hc.client5.http.ClientProtocolException e) {
            // a refused redirect or a broken response: the same URL will answer the same way
            throw new Final(e.getCause() != null ? e.getCause().getMessage() : e.getMessage(), null);
        } catch (IOException e) {
            String m = e.getMessage();
            throw new Retryable(e.getClass().getSimpleName() + (m == null ? "" : ": " + m), e);
        }
    }

    private static final class UncheckedFinal extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final Final final_;

        UncheckedFinal(Final f) {
            this.final_ = f;
        }
    }

    private static final class UncheckedRetryable extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final Retryable retryable;

        UncheckedRetryable(Retryable r) {
            this.retryable = r;
        }
    }

    private FetchResult place(InputStream in, URI url, FetchRequest request, TrustLevel transport)
            throws IOException, Final {
        return place(in, url, request.targetDir(), request.fileName(), request.digest(), request.maxBytes(), transport);
    }

    private FetchResult place(InputStream in, URI url, Path targetDir, String fileName,
                              java.util.Optional<Digest> digest, long maxBytes, TrustLevel transport)
            throws IOException, Final {
        Path target = targetDir.resolve(fileName);
        try (Staging staging = new Staging(targetDir, fileName, digest, maxBytes)) {
            staging.copyFrom(in, url.toString());
            TrustLevel trust = transport;
            if (digest.isPresent()) {
                Digest expected = digest.get();
                Digest actual = staging.actual(expected.algorithm());
                if (!actual.equals(expected)) {
                    throw new Final(expected.algorithm().key() + " mismatch",
                            new IntegrityException(url, expected, actual, 1));
                }
                trust = TrustLevel.PIN;
            }
            String sha256 = staging.sha256Hex();
            long size = staging.size();
            staging.commit(target);
            return new FetchResult(target, url, sha256, size, trust);
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
