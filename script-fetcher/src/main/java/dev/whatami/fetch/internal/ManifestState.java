package dev.whatami.fetch.internal;

import com.fasterxml.jackson.jr.ob.JSON;
import dev.whatami.status.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What this instance accepted last, so that an older document is refused (rollback): per root key, the keys
 * document's version and digest; per root key and manifest name, the manifest's. One small JSON file in the agent's
 * state directory, read once and replaced atomically (temp file, rename) when it changes. Not thread-safe: its
 * one user, {@code Manifests}, holds a lock around it.
 */
final class ManifestState {
    private static final JSON JSON_RW = JSON.std.with(JSON.Feature.FAIL_ON_DUPLICATE_MAP_KEYS)
            .with(JSON.Feature.PRETTY_PRINT_OUTPUT);

    /**
     * A document accepted: its version, its digest (to tell another document with the same version, and to know the
     * same bytes again), and for a manifest the id of the key whose signature over them was verified (else empty).
     */
    record Seen(long version, String sha256, String signer) {
    }

    /** The file cannot be used: what to do about it. */
    static final class Unusable extends Exception {
        private static final long serialVersionUID = 1L;

        Unusable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Path file;
    private Map<String, Seen> keys;
    private Map<String, Seen> manifests;
    private boolean dirty;

    ManifestState(Path file) {
        this.file = file;
    }

    Path file() {
        return file;
    }

    Optional<Seen> keys(String rootId) throws Unusable {
        load();
        return Optional.ofNullable(keys.get(rootId));
    }

    Optional<Seen> manifest(String rootId, String name) throws Unusable {
        load();
        return Optional.ofNullable(manifests.get(rootId + "/" + name));
    }

    /** Records a keys document as accepted; {@link #flush} writes it. */
    /**
     * The manifest under {@code rootId} accepted with exactly this digest (and its signer recorded), whatever its
     * name.
     */
    Optional<Seen> manifestWithDigest(String rootId, String sha256) throws Unusable {
        load();
        for (Map.Entry<String, Seen> e : manifests.entrySet()) {
            if (e.getKey().startsWith(rootId + "/") && e.getValue().sha256().equals(sha256)
                    && !e.getValue().signer().isEmpty()) {
                return Optional.of(e.getValue());
            }
        }
        return Optional.empty();
    }

    void acceptKeys(String rootId, Seen seen) throws Unusable {
        load();
        dirty |= !same(seen, keys.put(rootId, seen));
    }

    /** Records a manifest as accepted; {@link #flush} writes it. */
    void acceptManifest(String rootId, String name, Seen seen) throws Unusable {
        load();
        dirty |= !same(seen, manifests.put(rootId + "/" + name, seen));
    }

    /** Field by field: a record's own equals is bootstrapped on first use, milliseconds of a cold boot. */
    private static boolean same(Seen a, Seen b) {
        return b != null && a.version() == b.version() && a.sha256().equals(b.sha256())
                && a.signer().equals(b.signer());
    }

    /** Writes what changed since the last write, if anything: one durable write per manifest accepted. */
    void flush() throws Unusable {
        if (dirty) {
            store();
            dirty = false;
        }
    }

    private void load() throws Unusable {
        if (keys != null) {
            return;
        }
        keys = new TreeMap<>();
        manifests = new TreeMap<>();
        byte[] b;
        try {
            b = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return; // nothing accepted yet: the first boot of this image
        } catch (IOException e) {
            keys = null;
            throw new Unusable("cannot read " + file + " (the manifest versions this instance accepted): "
                    + e.getMessage(), e);
        }
        try {
            Map<String, Object> m = JSON_RW.mapFrom(b);
            read(m.get("keys"), keys);
            read(m.get("manifests"), manifests);
        } catch (IOException | RuntimeException e) {
            keys = null;
            throw new Unusable(file + " (the manifest versions this instance accepted) is damaged; as root, remove it "
                    + "and the next run accepts the current manifest again (an older one too, so check the file server "
                    + "first)", e);
        }
    }

    private static void read(Object o, Map<String, Seen> into) {
        if (o == null) {
            return;
        }
        for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
            Map<?, ?> seen = (Map<?, ?>) e.getValue();
            Object signer = seen.get("signer");
            into.put((String) e.getKey(), new Seen(((Number) seen.get("version")).longValue(),
                    (String) java.util.Objects.requireNonNull(seen.get("sha256")),
                    signer == null ? "" : (String) signer));
        }
    }

    private void store() throws Unusable {
        Map<String, Object> out = new TreeMap<>();
        out.put("keys", asMaps(keys));
        out.put("manifests", asMaps(manifests));
        try {
            // atomic but not fsynced: an fsync costs a first boot ~10 ms, and the boot's ledger and status writes,
            // which are fsynced, commit this rename and its data with them (ext4's ordered journal)
            AtomicFiles.write(file, JSON_RW.asBytes(out), false, false);
        } catch (IOException e) {
            throw new Unusable("cannot record the accepted manifest version in " + file + ": " + e.getMessage()
                    + "; check that the state directory is writable and has space", e);
        }
    }

    private static Map<String, Object> asMaps(Map<String, Seen> seen) {
        Map<String, Object> m = new TreeMap<>();
        for (Map.Entry<String, Seen> e : seen.entrySet()) {
            Seen v = e.getValue();
            m.put(e.getKey(), v.signer().isEmpty() ? Map.of("version", v.version(), "sha256", v.sha256())
                    : Map.of("version", v.version(), "sha256", v.sha256(), "signer", v.signer()));
        }
        return m;
    }
}
