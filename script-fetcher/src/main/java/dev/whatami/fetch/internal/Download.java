package dev.whatami.fetch.internal;

import dev.whatami.fetch.FetchFailure;
import dev.whatami.fetch.FetchListener;
import dev.whatami.fetch.FetchRefusedException;
import dev.whatami.fetch.FetchRequest;
import dev.whatami.fetch.FetchResult;
import dev.whatami.fetch.IntegrityException;
import dev.whatami.fetch.RefusalReason;
import dev.whatami.fetch.SignatureRefusedException;
import dev.whatami.fetch.SignatureSource;
import dev.whatami.fetch.TrustedKeys;
import dev.whatami.status.Trust;
import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import dev.whatami.userdata.Redact;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hc.client5.http.utils.DateUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One URL's part in a fetch. Its staging file lives across attempts, so a dropped connection resumes where it stopped
 * — but only under a strong validator, and only when the server's {@code Content-Range} is exactly the rest of the
 * same file; otherwise the download starts again from zero. When the bytes are complete and only the signature could
 * not be fetched, the next attempt fetches only the signature.
 */
final class Download implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Download.class);
    static final int MAX_SIGNATURE_BYTES = 4096;
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+)");

    /** What every download of one fetcher shares. */
    record Context(Exchange exchange, Optional<HttpCache> cache, TrustedKeys keys, FetchListener listener,
                   Set<Path> live, Clock clock, java.util.function.Function<URI, Origin> origins,
                   Optional<Manifests> manifests) {
    }

    private final URI url;
    private final FetchRequest request;
    private final Context cx;
    private final Origin origin;
    /** S3 told us the bucket's region once in this download: it is asked again there, once. */
    private boolean askedAgain;
    private Staging staging;
    /** The strong validator of the staged bytes (for If-Range), or null: then nothing is resumed. */
    private String validator;
    /** The full size of the file being staged, or -1. */
    private long total = -1;
    /** The staged bytes are the whole file; only the signature is still missing. */
    private boolean bytesComplete;
    private boolean cacheable;
    private Optional<String> etag = Optional.empty();
    private Optional<String> lastModified = Optional.empty();
    private byte[] signature;
    /** The sha256 this attempt asks for by content address ({@code ?sha256=}), or null: asked for by name. */
    private String address;
    /**
     * The status (404 or 410) the server answered the content-addressed URL with, or 0: from then on this download
     * asks by name, and a refusal of the bytes says that the server has no such version.
     */
    private int addressMissed;
    /** The sha256 that was asked for when the address was missed. */
    private String missedAddress;

    Download(URI url, FetchRequest request, Context cx, Origin origin) {
        this.url = url;
        this.request = request;
        this.cx = cx;
        this.origin = origin;
    }

    URI url() {
        return url;
    }

    /** One attempt: the bytes (unless staged whole already), the signature, verification, placement. */
    FetchResult attempt(Watchdog.Scope scope) throws AttemptFailed {
        if (!cx.keys().isEmpty() && request.signature().isEmpty() && !origin.derivesSignature(url)) {
            throw refusedSignature(RefusalReason.SIGNATURE_MISSING, "refused " + Redact.url(url) + ": trusted keys "
                    + "are configured and its URL has a query string, so no signature URL can be derived from it (a "
                    + "presigned URL does not cover a .sig beside it); give the signature in the user-data with "
                    + "sig=<base64> or sig=<url>.", "no signature can be derived from a URL with a query string");
        }
        Manifests.Verified manifest = manifest(scope);
        address = contentAddress(manifest);
        if (staging == null) {
            try {
                staging = new Staging(request.targetDir(), request.fileName(), request.digest(), request.maxBytes(),
                        cx.keys(), cx.live());
            } catch (Staging.LocalIOException e) {
                throw new AttemptFailed(FetchFailure.LOCAL_IO, e.getMessage(), e);
            }
        }
        if (!bytesComplete) {
            if (isFile()) {
                readFile();
            } else {
                readHttp(scope, true);
            }
            bytesComplete = true;
        }
        byte[] sig = cx.keys().isEmpty() ? null : signature(scope);
        return finish(sig, manifest);
    }

    /**
     * With a manifest root key, the verified manifest of this URL's directory (fetched once per fetcher), which must
     * list the URL's name; else null. Checked before any byte of the script is fetched.
     */
    private Manifests.Verified manifest(Watchdog.Scope scope) throws AttemptFailed {
        if (cx.manifests().isEmpty()) {
            return null;
        }
        Manifests.Verified v = cx.manifests().get().forScript(url, cx.exchange(), origin, scope);
        Manifests.check(v, url, Optional.empty());
        return v;
    }

    /**
     * The sha256 to ask for by content address: the user-data's sha256 pin, else the one the manifest lists for the
     * script; none for a URL that is not plain http(s) without a query ({@link ContentAddress#applies}), nor once the
     * server answered the address 404 or 410 (a version it does not have, or a file too large to be addressed).
     */
    private String contentAddress(Manifests.Verified manifest) {
        if (addressMissed != 0 || origin != Origin.PLAIN || !ContentAddress.applies(url)) {
            return null;
        }
        if (request.digest().isPresent() && request.digest().get().algorithm() == DigestAlgorithm.SHA256) {
            return request.digest().get().hex();
        }
        return manifest == null ? null : manifest.manifest().files().get(Manifests.name(url));
    }

    /** The URL this attempt asks for the script's bytes at: by content address, or by name. */
    private URI requestUrl() throws AttemptFailed {
        URI u = origin.requestUrl(url);
        return address == null ? u : ContentAddress.of(u, address);
    }

    private boolean isFile() {
        return url.getScheme().equalsIgnoreCase("file");
    }

    private void readFile() throws AttemptFailed {
        Path p;
        try {
            p = Path.of(url);
        } catch (IllegalArgumentException e) {
            throw new AttemptFailed(FetchFailure.NOT_FOUND, "not a local file path", e);
        }
        if (!Files.isRegularFile(p)) {
            throw new AttemptFailed(FetchFailure.NOT_FOUND, Files.exists(p) ? "not a regular file" : "no such file",
                    null);
        }
        try {
            staging.restart();
            try (InputStream in = Files.newInputStream(p)) {
                copy(in);
            }
        } catch (IOException e) {
            AttemptFailed f = Failures.io(e, null, url, staging.size());
            throw f.failure == FetchFailure.UNREACHABLE ? new AttemptFailed(FetchFailure.LOCAL_IO, "cannot read "
                    + p + ": " + e.getMessage(), e) : f;
        }
    }

    /** Reads the script over http(s): whole, resumed, or from the cache after a 304. */
    private void readHttp(Watchdog.Scope scope, boolean mayUseCache) throws AttemptFailed {
        try {
            boolean resuming = staging.size() > 0 && validator != null && total > staging.size();
            if (!resuming) {
                forgetStaged();
            }
            Map<String, String> headers = new LinkedHashMap<>();
            Optional<HttpCache.Entry> cached = Optional.empty();
            if (resuming) {
                headers.put("Range", "bytes=" + staging.size() + "-");
                headers.put("If-Range", validator);
            } else if (mayUseCache && cx.cache().isPresent()) {
                cached = cx.cache().get().lookup(url);
                cached.flatMap(HttpCache.Entry::etag).ifPresent(e -> headers.put("If-None-Match", e));
                cached.flatMap(HttpCache.Entry::lastModified).ifPresent(l -> headers.put("If-Modified-Since", l));
            }
            try (Exchange.Response r = cx.exchange().open(requestUrl(), headers, origin, scope)) {
                int code = r.code();
                if ((code == 404 || code == 410) && address != null) {
                    // not that version (or a file too large to be content-addressed): ask by name, and verify
                    LOG.debug("{} has no version with sha256 {} (HTTP {} to its content-addressed URL): asking for "
                            + "it by name", Redact.url(url), address, code);
                    r.abort();
                    addressMissed = code;
                    missedAddress = address;
                    address = null;
                    forgetStaged();
                    readHttp(scope, mayUseCache);
                    return;
                }
                if (code == 304 && cached.isPresent()) {
                    r.close();
                    if (!copyFromCache(cached.get())) {
                        readHttp(scope, false); // the cached copy is damaged: ask for the whole file
                    }
                    return;
                }
                if (code == 200 || (code == 206 && resuming)) {
                    identityOnly(r);
                }
                if (code == 200) {
                    if (resuming) {
                        LOG.debug("{} did not resume (changed, or ignores Range): downloading it whole again",
                                Redact.url(url));
                    }
                    forgetStaged();
                    validator = strongValidator(r);
                    etag = r.header("ETag");
                    lastModified = r.header("Last-Modified");
                    cacheable = true;
                    total = r.length();
                    if (total > request.maxBytes()) {
                        throw new AttemptFailed(FetchFailure.TOO_LARGE, "HTTP 200 but " + total + " bytes, larger "
                                + "than the " + request.maxBytes() + "-byte limit", null);
                    }
                    copy(r, scope);
                    return;
                }
                if (code == 206 && resuming) {
                    if (!sameRest(r)) {
                        LOG.debug("{} answered a Range request with another part or another file: downloading it "
                                + "whole again", Redact.url(url));
                        r.abort();
                        forgetStaged();
                        readHttp(scope, false);
                        return;
                    }
                    copy(r, scope);
                    if (staging.size() != total) {
                        forgetStaged();
                        throw new AttemptFailed(FetchFailure.BAD_RESPONSE, "a resumed download ended at "
                                + staging.size() + " of " + total + " bytes", null);
                    }
                    return;
                }
                if (code == 206) {
                    throw new AttemptFailed(FetchFailure.BAD_RESPONSE, "HTTP 206 (a part) to a request for the whole "
                            + "file", null);
                }
                if (!askedAgain && origin.retryOnce(r)) {
                    askedAgain = true;
                    r.abort();
                    readHttp(scope, mayUseCache);
                    return;
                }
                throw failure(r);
            }
        } catch (Staging.LocalIOException e) {
            throw new AttemptFailed(FetchFailure.LOCAL_IO, e.getMessage(), e);
        }
    }

    /** What an error answer means, with the origin's own explanation (S3's error code) when it has one. */
    private AttemptFailed failure(Exchange.Response r) {
        AttemptFailed f = Failures.status(r.message, cx.clock().instant());
        Optional<String> why = origin.explain(r);
        return why.isEmpty() ? f : f.suffixed(" (" + why.get() + ")");
    }

    /** Drops the staged bytes and what was known about them. */
    private void forgetStaged() throws Staging.LocalIOException {
        if (staging.size() > 0) {
            staging.restart();
        }
        validator = null;
        total = -1;
        cacheable = false;
        etag = Optional.empty();
        lastModified = Optional.empty();
    }

    /** We never ask for a content coding, so a coded body is not the file: it must not be stored as the script. */
    private void identityOnly(Exchange.Response r) throws AttemptFailed {
        Optional<String> coding = r.header("Content-Encoding");
        if (coding.isPresent() && !coding.get().isEmpty() && !coding.get().equalsIgnoreCase("identity")) {
            throw new AttemptFailed(FetchFailure.BAD_RESPONSE, "the server compressed it unasked (Content-Encoding: "
                    + coding.get() + "; the request said Accept-Encoding: identity); turn compression off for this "
                    + "file on the server or CDN", null);
        }
    }

    /**
     * A validator that may resume a download (RFC 9110 §13.1.5): a strong ETag, or a Last-Modified date that is
     * strong by §8.8.2.2 — at least one second before the response's own Date, so the file cannot have changed twice
     * within that second. Anything else: no resume, the next attempt starts from zero.
     */
    static String strongValidator(Exchange.Response r) {
        Optional<String> tag = r.header("ETag");
        if (tag.isPresent() && tag.get().startsWith("\"")) {
            return tag.get();
        }
        Optional<String> modified = r.header("Last-Modified");
        Optional<String> date = r.header("Date");
        if (modified.isPresent() && date.isPresent()) {
            Instant m = DateUtils.parseStandardDate(modified.get());
            Instant d = DateUtils.parseStandardDate(date.get());
            if (m != null && d != null && !m.isAfter(d.minusSeconds(1))) {
                return modified.get();
            }
        }
        return null;
    }

    /** The 206 is exactly the rest of the file we hold the start of, under the same validator. */
    private boolean sameRest(Exchange.Response r) {
        Matcher m = CONTENT_RANGE.matcher(r.header("Content-Range").orElse(""));
        if (!m.matches()) {
            return false;
        }
        try {
            if (Long.parseLong(m.group(1)) != staging.size() || Long.parseLong(m.group(2)) != total - 1
                    || Long.parseLong(m.group(3)) != total) {
                return false;
            }
        } catch (NumberFormatException e) {
            return false;
        }
        // If-Range matched, so the server says it is the same file; check that what it sends says so too
        Optional<String> same = validator.startsWith("\"") ? r.header("ETag") : r.header("Last-Modified");
        return same.isEmpty() || same.get().equals(validator);
    }

    /** Copies the cached body into the staging file; false when it no longer has the digest recorded for it. */
    private boolean copyFromCache(HttpCache.Entry entry) throws AttemptFailed {
        LOG.debug("{} not modified: using the cached copy", Redact.url(url));
        try {
            staging.restart();
            try (InputStream in = Files.newInputStream(entry.body())) {
                copy(in);
            }
        } catch (Staging.TooLargeException e) {
            throw new AttemptFailed(FetchFailure.TOO_LARGE, e.getMessage(), e);
        } catch (Staging.LocalIOException e) {
            throw new AttemptFailed(FetchFailure.LOCAL_IO, e.getMessage(), e);
        } catch (IOException e) {
            return false;
        }
        if (!staging.sha256Hex().equals(entry.sha256())) {
            return false;
        }
        cacheable = false; // it is the cache's copy already
        return true;
    }

    private void copy(Exchange.Response r, Watchdog.Scope scope) throws AttemptFailed {
        try {
            copy(r.body());
        } catch (IOException e) {
            throw Failures.io(e, scope, url, staging.size());
        }
    }

    private void copy(InputStream in) throws IOException {
        OptionalLong size = total >= 0 ? OptionalLong.of(total) : OptionalLong.empty();
        staging.copyFrom(in, Redact.url(url), bytes -> cx.listener().progress(url, bytes, size));
    }

    /** The signature's URL: the one given with sig=, else beside the script. */
    URI signatureUrl() {
        return request.signature().filter(SignatureSource.At.class::isInstance).map(a -> ((SignatureSource.At) a).url())
                .orElseGet(() -> origin.derivedSignature(url));
    }

    /** The decoded signature: given inline, or fetched once per fetch. */
    private byte[] signature(Watchdog.Scope scope) throws AttemptFailed {
        if (signature != null) {
            return signature;
        }
        if (request.signature().orElse(null) instanceof SignatureSource.Inline inline) {
            signature = inline.signature();
            return signature;
        }
        String sign = " Sign it: whatami-server sign --key KEY " + request.fileName()
                + " (or openssl pkeyutl -sign -rawin), and put the signature beside it or give it with sig=.";
        URI sigUrl = signatureUrl();
        Origin sigOrigin = sigUrl.equals(origin.derivedSignature(url)) ? origin : cx.origins().apply(sigUrl);
        byte[] raw;
        if (sigUrl.getScheme().equalsIgnoreCase("file")) {
            Path p = Path.of(sigUrl);
            if (!Files.isRegularFile(p)) {
                throw refusedSignature(RefusalReason.SIGNATURE_MISSING, "refused " + Redact.url(url) + ": trusted "
                        + "keys are configured and it has no signature at " + Redact.url(sigUrl) + " (no such file); "
                        + "unsigned scripts never run here." + sign, "no signature");
            }
            try (InputStream in = Files.newInputStream(p)) {
                raw = in.readNBytes(MAX_SIGNATURE_BYTES + 1);
            } catch (IOException e) {
                throw new AttemptFailed(FetchFailure.LOCAL_IO, "cannot read " + p + ": " + e.getMessage(), e);
            }
        } else {
            try (Exchange.Response r = cx.exchange().open(sigOrigin.requestUrl(sigUrl), Map.of(), sigOrigin, scope)) {
                int code = r.code();
                if (code == 404 || code == 410) {
                    throw refusedSignature(RefusalReason.SIGNATURE_MISSING, "refused " + Redact.url(url) + ": trusted "
                            + "keys are configured and it has no signature at " + Redact.url(sigUrl) + " (HTTP "
                            + code + "); unsigned scripts never run here." + sign, "no signature (HTTP " + code + ")");
                }
                if (code != 200) {
                    AttemptFailed f = Failures.status(r.message, cx.clock().instant());
                    Optional<String> why = sigOrigin.explain(r);
                    throw why.isEmpty() ? f : f.suffixed(" (" + why.get() + ")");
                }
                identityOnly(r);
                if (r.length() > MAX_SIGNATURE_BYTES) {
                    raw = new byte[MAX_SIGNATURE_BYTES + 1];
                } else {
                    try {
                        InputStream body = r.body();
                        raw = body.readNBytes(MAX_SIGNATURE_BYTES + 1);
                        if (raw.length <= MAX_SIGNATURE_BYTES) {
                            body.read(); // see the end, so the connection can be reused
                        }
                    } catch (IOException e) {
                        throw Failures.io(e, scope, sigUrl, 0);
                    }
                }
            } catch (AttemptFailed f) {
                throw f.failure == FetchFailure.REFUSED ? f : f.prefixed("its signature " + Redact.url(sigUrl) + ": ");
            }
        }
        if (raw.length > MAX_SIGNATURE_BYTES) {
            throw refusedSignature(RefusalReason.SIGNATURE_INVALID, "refused " + Redact.url(url) + ": "
                    + Redact.url(sigUrl) + " is larger than " + MAX_SIGNATURE_BYTES + " bytes, so it is no Ed25519 "
                    + "signature (base64 of 64 bytes, or the raw 64 bytes)." + sign, "signature file too large");
        }
        Optional<byte[]> decoded = TrustedKeys.decodeSignature(raw);
        if (decoded.isEmpty()) {
            throw refusedSignature(RefusalReason.SIGNATURE_INVALID, "refused " + Redact.url(url) + ": "
                    + Redact.url(sigUrl) + " is not an Ed25519 signature (base64 of 64 bytes, or the raw 64 bytes)."
                    + sign, "bad signature file");
        }
        signature = decoded.get();
        return signature;
    }

    private AttemptFailed refusedSignature(RefusalReason reason, String message, String shortMessage) {
        return AttemptFailed.refused(new SignatureRefusedException(reason, message, url, 0), shortMessage);
    }

    /** Verifies digest, signature and manifest, then places the file. */
    private FetchResult finish(byte[] sig, Manifests.Verified manifest) throws AttemptFailed {
        Trust trust = !isFile() && origin.requestUrl(url).getScheme().equalsIgnoreCase("https")
                ? Trust.TRANSPORT : Trust.NONE;
        if (request.digest().isPresent()) {
            Digest expected = request.digest().get();
            Digest actual = staging.actual(expected.algorithm());
            if (!actual.equals(expected)) {
                throw AttemptFailed.refused(new IntegrityException(IntegrityException.message(url, expected, actual)
                        + noSuchVersion(), url, expected, actual, 0, Map.of(url, FetchFailure.REFUSED)),
                        expected.algorithm().key() + " mismatch");
            }
            trust = Trust.PIN;
        }
        if (sig != null) {
            String signer;
            try {
                signer = staging.signer(sig).orElse(null);
            } catch (Staging.LocalIOException e) {
                throw new AttemptFailed(FetchFailure.LOCAL_IO, e.getMessage(), e);
            }
            if (signer == null) {
                throw refusedSignature(RefusalReason.SIGNATURE_INVALID, "refused " + Redact.url(url) + ": its "
                        + "signature does not verify with any trusted key (" + String.join(", ", cx.keys().names())
                        + "). The script changed after it was signed, or was signed by a key this machine does not "
                        + "trust; sign it again with the owner's key." + (address == null ? "" : " Its bytes are the "
                        + "version with sha256 " + address + " (asked for by its content address), and its signature "
                        + "beside its name may be another version's: if the script was replaced on the server since, "
                        + "pin the new version."), "signature does not verify");
            }
            LOG.debug("{} is signed by {}", Redact.url(url), signer);
            trust = Trust.SIGNATURE;
        }
        if (manifest != null) {
            try {
                Manifests.check(manifest, url, Optional.of(staging.sha256Hex()));
            } catch (AttemptFailed f) {
                if (addressMissed == 0 || f.refusal == null) {
                    throw f;
                }
                throw AttemptFailed.refused(new FetchRefusedException(f.refusal.reason(), f.refusal.getMessage()
                        + noSuchVersion(), url, 0), f.getMessage());
            }
            trust = Trust.SIGNATURE;
        }
        String sha256 = staging.sha256Hex();
        long size = staging.size();
        Path target = request.targetDir().resolve(request.fileName());
        try {
            staging.commit(target, Staging.EXECUTABLE);
        } catch (Staging.LocalIOException e) {
            throw new AttemptFailed(FetchFailure.LOCAL_IO, e.getMessage(), e);
        }
        if (cacheable && cx.cache().isPresent()) {
            cx.cache().get().store(url, etag, lastModified, target, sha256);
        }
        return new FetchResult(target, url, sha256, size, trust, 0);
    }

    /**
     * After the server answered the content-addressed URL 404 or 410 and the bytes fetched by name are refused: that
     * the server does not have the version asked for; else nothing.
     */
    private String noSuchVersion() {
        if (addressMissed == 0) {
            return "";
        }
        return " The server does not have the version with sha256 " + missedAddress + ": it answered HTTP "
                + addressMissed + " to its content-addressed URL (" + Redact.url(url) + "?" + ContentAddress.PARAMETER
                + "=" + missedAddress + "), and the file it serves by name is another version.";
    }

    @Override
    public void close() {
        if (staging != null) {
            staging.close();
        }
    }
}
