package dev.whatami.fetch.internal;

import dev.whatami.fetch.FetchFailure;
import dev.whatami.fetch.FetchRefusedException;
import dev.whatami.fetch.ManifestTrust;
import dev.whatami.fetch.MinisignKey;
import dev.whatami.fetch.RefusalReason;
import dev.whatami.userdata.Redact;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The signed manifests of one fetcher (one boot): for each directory scripts are fetched from, its keys document and
 * manifest are fetched once, verified against the root key, the clock and the versions this instance accepted before,
 * and kept, refusal included, for every later script from there. Thread-safe (one lock: manifests are few and small).
 * The path a boot takes avoids what costs a cold JVM milliseconds each: lambdas, streams and records' generated
 * {@code equals} (their bootstraps), regular expressions and java.time's formatter.
 */
final class Manifests {
    private static final Logger LOG = LoggerFactory.getLogger(Manifests.class);
    static final String MANIFEST = "manifest.json";
    static final String KEYS = "keys.json";
    static final String SIGNATURE_SUFFIX = ".minisig";
    private static final int MAX_MANIFEST_BYTES = 4 << 20;
    private static final int MAX_KEYS_BYTES = 256 << 10;

    /** A manifest that holds, fetched from {@code directory}, signed by {@code signer}. */
    record Verified(ManifestDocs.Manifest manifest, URI directory, String signer) {
        String describe() {
            return "the manifest " + Redact.url(directory.resolve(MANIFEST)) + " (\"" + manifest.name()
                    + "\", version " + manifest.version() + ")";
        }
    }

    private final MinisignKey root;
    private final ManifestState state;
    private final Clock clock;
    private final Map<URI, Object> byDirectory = new HashMap<>();

    Manifests(ManifestTrust trust, Clock clock) {
        this.root = trust.root();
        this.state = new ManifestState(trust.stateFile());
        this.clock = clock;
    }

    /** The directory a script URL's manifest is in: the URL up to its last {@code /}, without query or fragment. */
    static URI directory(URI url) {
        String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
        String dir = path.substring(0, path.lastIndexOf('/') + 1);
        try {
            return new URI(url.getScheme() + ":" + (url.getRawAuthority() != null ? "//" + url.getRawAuthority() : "")
                    + dir);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("no directory in " + Redact.url(url), e);
        }
    }

    /** The name a script was asked for under: its URL's last path segment, decoded. */
    static String name(URI url) {
        String path = url.getPath() == null ? "" : url.getPath();
        return path.substring(path.lastIndexOf('/') + 1);
    }

    /**
     * The verified manifest for the script at {@code url}, fetched on first use of its directory.
     *
     * @throws AttemptFailed refused (a {@link FetchRefusedException} with a {@code MANIFEST_*} reason), or a failure
     *                       to fetch one of the four files, which the next attempt tries again
     */
    Verified forScript(URI url, Exchange exchange, Origin origin, Watchdog.Scope scope) throws AttemptFailed {
        URI dir = directory(url);
        synchronized (this) {
            Object known = byDirectory.get(dir);
            if (known instanceof Verified v) {
                return v;
            }
            if (known instanceof FetchRefusedException refused) {
                throw AttemptFailed.refused(new FetchRefusedException(refused.reason(), refused.getMessage(), url, 0),
                        "manifest refused");
            }
            try {
                Verified v;
                try {
                    v = verify(dir, exchange, origin, scope);
                } finally {
                    state.flush(); // a newer keys document is recorded even when its manifest is refused
                }
                byDirectory.put(dir, v);
                if (LOG.isDebugEnabled()) {
                    LOG.debug("{} holds, signed by {}", v.describe(), v.signer());
                }
                return v;
            } catch (Refused r) {
                FetchRefusedException e = new FetchRefusedException(r.reason, "refused " + Redact.url(url) + ": "
                        + r.getMessage(), url, 0);
                byDirectory.put(dir, e);
                throw AttemptFailed.refused(e, "manifest refused");
            } catch (ManifestState.Unusable e) {
                throw new AttemptFailed(FetchFailure.LOCAL_IO, e.getMessage(), e.getCause());
            }
        }
    }

    /**
     * The script's bytes against its manifest: listed under its name, with that digest.
     *
     * @throws AttemptFailed refused ({@link RefusalReason#NOT_IN_MANIFEST}, {@link RefusalReason#MANIFEST_MISMATCH})
     */
    static void check(Verified v, URI url, Optional<String> sha256) throws AttemptFailed {
        String name = name(url);
        String listed = v.manifest().files().get(name);
        if (listed == null) {
            throw AttemptFailed.refused(new FetchRefusedException(RefusalReason.NOT_IN_MANIFEST, "refused "
                    + Redact.url(url) + ": " + v.describe() + " lists no file \"" + name + "\", so nothing vouches "
                    + "for it under that name. Add it and sign the manifest again (whatami-server manifest sign "
                    + "--dir DIR), or fix the URL in the user-data.", url, 0), "not in the manifest");
        }
        if (sha256.isPresent() && !sha256.get().equals(listed)) {
            throw AttemptFailed.refused(new FetchRefusedException(RefusalReason.MANIFEST_MISMATCH, "refused "
                    + Redact.url(url) + ": its bytes (sha256 " + sha256.get() + ") are not the ones " + v.describe()
                    + " lists for \"" + name + "\" (sha256 " + listed + "). The file changed after the manifest was "
                    + "signed, or another file is served under its name; if the change is yours, sign the manifest "
                    + "again (whatami-server manifest sign --dir DIR).", url, 0), "not the manifest's bytes");
        }
    }

    /** A refusal, before it is tied to a script URL. */
    private static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        final transient RefusalReason reason;

        Refused(RefusalReason reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }
    }

    private Verified verify(URI dir, Exchange exchange, Origin origin, Watchdog.Scope scope) throws AttemptFailed,
            Refused, ManifestState.Unusable {
        Instant now = clock.instant();
        URI keysUrl = dir.resolve(KEYS);
        byte[] keysJson = get(keysUrl, exchange, origin, scope, MAX_KEYS_BYTES);
        // the very bytes this instance verified before (its state is root's alone) need no second verification: a
        // later boot skips the signature's request and its Ed25519
        Optional<ManifestState.Seen> lastKeys = state.keys(root.id());
        if (lastKeys.isEmpty() || !lastKeys.get().sha256().equals(ManifestDocs.sha256(keysJson))) {
            byte[] keysSig = get(dir.resolve(KEYS + SIGNATURE_SUFFIX), exchange, origin, scope,
                    MinisignSignature.MAX_BYTES);
            try {
                MinisignSignature.parse(keysSig).verify(root, keysJson, false);
            } catch (MinisignSignature.Invalid e) {
                throw new Refused(RefusalReason.MANIFEST_INVALID, keysWhat(keysUrl, null) + " is not signed by the "
                        + "root key " + root.id() + " baked into this image: " + e.getMessage() + "; sign it again "
                        + "with the root key" + UPLOAD_KEYS);
            }
        }
        ManifestDocs.Keys keys;
        try {
            keys = ManifestDocs.keys(keysJson);
        } catch (ManifestDocs.Malformed e) {
            throw new Refused(RefusalReason.MANIFEST_INVALID, keysWhat(keysUrl, null) + ": " + e.getMessage());
        }
        if (now.isAfter(keys.expires())) {
            throw new Refused(RefusalReason.MANIFEST_EXPIRED, keysWhat(keysUrl, keys) + " expired at "
                    + keys.expires() + " (this machine's clock says " + now + "); sign a new one with a later "
                    + "--expires and a higher --version" + UPLOAD_KEYS);
        }
        if (refusal(lastKeys, keys.version(), keys.sha256())) {
            throw rollback(lastKeys.get(), keys.version(), keysWhat(keysUrl, keys), "keys document");
        }
        state.acceptKeys(root.id(), new ManifestState.Seen(keys.version(), keys.sha256(), ""));

        URI manifestUrl = dir.resolve(MANIFEST);
        byte[] json = get(manifestUrl, exchange, origin, scope, MAX_MANIFEST_BYTES);
        Optional<ManifestState.Seen> known = state.manifestWithDigest(root.id(), ManifestDocs.sha256(json));
        MinisignSignature sig = null;
        String signer;
        if (known.isPresent()) {
            signer = known.get().signer(); // its signature was verified when it was accepted
        } else {
            byte[] sigFile = get(dir.resolve(MANIFEST + SIGNATURE_SUFFIX), exchange, origin, scope,
                    MinisignSignature.MAX_BYTES);
            try {
                sig = MinisignSignature.parse(sigFile);
            } catch (MinisignSignature.Invalid e) {
                throw new Refused(RefusalReason.MANIFEST_INVALID, manifestWhat(manifestUrl, null)
                        + SIGNATURE_SUFFIX + " is not a minisign signature: " + e.getMessage() + SIGN_MANIFEST);
            }
            signer = sig.keyIdHex();
        }
        if (keys.revoked().contains(signer)) {
            throw new Refused(RefusalReason.MANIFEST_KEY_REVOKED, manifestWhat(manifestUrl, null) + " is signed by "
                    + "key " + signer + ", which " + keysWhat(keysUrl, keys) + " revokes; sign it with a current "
                    + "signing key" + SIGN_MANIFEST);
        }
        Optional<ManifestDocs.SigningKey> key = keys.find(signer);
        if (key.isEmpty()) {
            throw new Refused(RefusalReason.MANIFEST_INVALID, manifestWhat(manifestUrl, null) + " is signed by key "
                    + signer + ", which " + keysWhat(keysUrl, keys) + " does not list; sign it with a listed key, "
                    + "or list the key (whatami-server manifest keys --signing-key PUB)");
        }
        Optional<Instant> notBefore = key.get().notBefore();
        if (notBefore.isPresent() && now.isBefore(notBefore.get()) || now.isAfter(key.get().expires())) {
            throw new Refused(RefusalReason.MANIFEST_EXPIRED, manifestWhat(manifestUrl, null) + " is signed by key "
                    + signer + ", which " + keysWhat(keysUrl, keys) + " lets sign only "
                    + (notBefore.isPresent() ? "from " + notBefore.get() + " " : "") + "until " + key.get().expires()
                    + " (this machine's clock says " + now + "); sign it with a current key" + SIGN_MANIFEST);
        }
        if (sig != null) {
            try {
                sig.verify(key.get().key(), json, false);
            } catch (MinisignSignature.Invalid e) {
                throw new Refused(RefusalReason.MANIFEST_INVALID, manifestWhat(manifestUrl, null) + ": "
                        + e.getMessage() + SIGN_MANIFEST);
            }
        }
        ManifestDocs.Manifest manifest;
        try {
            manifest = ManifestDocs.manifest(json);
        } catch (ManifestDocs.Malformed e) {
            throw new Refused(RefusalReason.MANIFEST_INVALID, manifestWhat(manifestUrl, null) + ": "
                    + e.getMessage());
        }
        if (!manifest.origins().isEmpty() && !coveredByAny(manifest.origins(), dir)) {
            throw new Refused(RefusalReason.MANIFEST_INVALID, manifestWhat(manifestUrl, manifest) + " is for "
                    + String.join(", ", manifest.origins()) + ", not for " + Redact.url(dir) + ": another set's "
                    + "manifest is served here; list this origin in it (whatami-server manifest sign --origin URL) or "
                    + "fix the URL");
        }
        if (now.isAfter(manifest.expires())) {
            throw new Refused(RefusalReason.MANIFEST_EXPIRED, manifestWhat(manifestUrl, manifest) + " expired at "
                    + manifest.expires() + " (this machine's clock says " + now + "); the file server is frozen at an "
                    + "old manifest, or its owner has not signed a new one: sign one with a later --expires");
        }
        Optional<ManifestState.Seen> lastManifest = state.manifest(root.id(), manifest.name());
        if (refusal(lastManifest, manifest.version(), manifest.sha256())) {
            throw rollback(lastManifest.get(), manifest.version(), manifestWhat(manifestUrl, manifest), "manifest");
        }
        state.acceptManifest(root.id(), manifest.name(), new ManifestState.Seen(manifest.version(),
                manifest.sha256(), signer));
        return new Verified(manifest, dir, signer);
    }

    private static final String UPLOAD_KEYS = " (whatami-server manifest keys --root-key ROOT ...) and upload " + KEYS
            + " and " + KEYS + SIGNATURE_SUFFIX + " together";
    private static final String SIGN_MANIFEST = "; sign it again (whatami-server manifest sign --key KEY --dir DIR) "
            + "and upload " + MANIFEST + " and " + MANIFEST + SIGNATURE_SUFFIX + " together";

    /** Messages are made only for refusals: a boot that accepts builds none. */
    private static String keysWhat(URI url, ManifestDocs.Keys keys) {
        return "the keys document " + Redact.url(url) + (keys == null ? "" : " (version " + keys.version() + ")");
    }

    private static String manifestWhat(URI url, ManifestDocs.Manifest m) {
        return "the manifest " + Redact.url(url) + (m == null ? "" : " (\"" + m.name() + "\", version " + m.version()
                + ")");
    }

    /** An older document than the one accepted, or another with the same version. */
    private static boolean refusal(Optional<ManifestState.Seen> last, long version, String sha256) {
        return last.isPresent() && (version < last.get().version()
                || version == last.get().version() && !sha256.equals(last.get().sha256()));
    }

    private Refused rollback(ManifestState.Seen last, long version, String what, String kind) {
        if (version < last.version()) {
            return new Refused(RefusalReason.MANIFEST_ROLLBACK, what + " is older than the " + kind + " this instance "
                    + "accepted before (version " + last.version() + "): an old " + kind + " is served (rollback). "
                    + "Serve the current one; " + state.file() + " records what was accepted");
        }
        return new Refused(RefusalReason.MANIFEST_ROLLBACK, what + " is not the version-" + version + " " + kind
                + " this instance accepted before, though it has its version: a version is never reused; sign the "
                + "new " + kind + " with a higher version");
    }

    private static boolean coveredByAny(java.util.List<String> origins, URI dir) {
        for (String o : origins) {
            if (covers(o, dir)) {
                return true;
            }
        }
        return false;
    }

    /** {@code dir} is {@code origin} or below it: scheme and host in any case, the path as written. */
    static boolean covers(String origin, URI dir) {
        URI o;
        try {
            o = new URI(origin);
        } catch (URISyntaxException e) {
            return false;
        }
        return o.getScheme() != null && o.getScheme().equalsIgnoreCase(dir.getScheme())
                && String.valueOf(o.getRawAuthority()).equalsIgnoreCase(String.valueOf(dir.getRawAuthority()))
                && o.getRawPath() != null && dir.getRawPath().startsWith(o.getRawPath());
    }

    private static String missing(URI fileUrl) {
        return Redact.url(fileUrl) + " does not exist; a manifest root key is configured, so every script is fetched "
                + "from a directory that holds " + MANIFEST + ", " + KEYS + " and their " + SIGNATURE_SUFFIX + " files "
                + "(whatami-server manifest keys and sign write them)";
    }

    /** One of the four files, whole; a 404 or 410 means there is none. */
    private byte[] get(URI fileUrl, Exchange exchange, Origin origin, Watchdog.Scope scope, int max)
            throws AttemptFailed, Refused {
        byte[] b;
        if (fileUrl.getScheme().equalsIgnoreCase("file")) {
            Path p = Path.of(fileUrl);
            if (!Files.isRegularFile(p)) {
                throw new Refused(RefusalReason.MANIFEST_MISSING, missing(fileUrl));
            }
            try (InputStream in = Files.newInputStream(p)) {
                b = in.readNBytes(max + 1);
            } catch (IOException e) {
                throw new AttemptFailed(FetchFailure.LOCAL_IO, "cannot read " + p + ": " + e.getMessage(), e);
            }
        } else {
            try (Exchange.Response r = exchange.open(origin.requestUrl(fileUrl), Map.of(), origin, scope)) {
                int code = r.code();
                if (code == 404 || code == 410) {
                    throw new Refused(RefusalReason.MANIFEST_MISSING, missing(fileUrl) + " (HTTP " + code + ")");
                }
                if (code != 200) {
                    AttemptFailed f = Failures.status(r.message, clock.instant());
                    Optional<String> why = origin.explain(r);
                    throw why.isEmpty() ? f : f.suffixed(" (" + why.get() + ")");
                }
                if (r.length() > max) {
                    b = new byte[max + 1];
                } else {
                    try {
                        InputStream body = r.body();
                        b = body.readNBytes(max + 1);
                        if (b.length <= max) {
                            body.read(); // see the end, so the connection can be reused
                        }
                    } catch (IOException e) {
                        throw Failures.io(e, scope, fileUrl, 0);
                    }
                }
            } catch (AttemptFailed f) {
                throw f.failure == FetchFailure.REFUSED ? f : f.prefixed(Redact.url(fileUrl) + ": ");
            }
        }
        if (b.length > max) {
            throw new Refused(RefusalReason.MANIFEST_INVALID, Redact.url(fileUrl) + " is larger than " + max
                    + " bytes, far larger than a manifest needs");
        }
        return b;
    }
}
