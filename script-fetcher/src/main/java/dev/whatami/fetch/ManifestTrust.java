package dev.whatami.fetch;

import dev.whatami.status.OwnedPaths;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Signed manifests: the root key baked into the image and the file where this instance remembers the versions it
 * accepted. With it, every fetched script must be listed, under the name it was asked for, in the signed manifest
 * beside it ({@code manifest.json} and {@code manifest.json.minisig} in the script URL's directory), signed by a key
 * that the keys document there ({@code keys.json}, {@code keys.json.minisig}) lists and the root key signed; an
 * expired, older or revoked-key manifest is refused. The files and rules are in docs/manifest.md. Immutable,
 * thread-safe.
 */
public final class ManifestTrust {
    private final MinisignKey root;
    private final Path stateFile;

    private ManifestTrust(MinisignKey root, Path stateFile) {
        this.root = Objects.requireNonNull(root, "root");
        this.stateFile = Objects.requireNonNull(stateFile, "stateFile");
    }

    /**
     * @param root      the root key: it signs the keys document, and nothing else
     * @param stateFile where the versions accepted are recorded (the agent's state directory); created on first use
     */
    public static ManifestTrust of(MinisignKey root, Path stateFile) {
        return new ManifestTrust(root, stateFile);
    }

    /**
     * The root key from a minisign public key file (as {@code minisign -G} writes it), checked like the trusted keys:
     * a file that someone other than root or this process's user could change is refused.
     *
     * @throws FetchException with {@link FetchFailure#CONFIGURATION} when the file cannot be read, is not a minisign
     *                        Ed25519 public key, or others could change it, naming the file and the fix
     */
    public static ManifestTrust fromFile(Path rootKeyFile, Path stateFile) {
        return new ManifestTrust(readRootKey(rootKeyFile), stateFile);
    }

    /**
     * The root key from a minisign public key file, checked as {@link #fromFile} checks it.
     *
     * @throws FetchException with {@link FetchFailure#CONFIGURATION}, as {@link #fromFile}
     */
    public static MinisignKey readRootKey(Path rootKeyFile) {
        try {
            Optional<String> problem = OwnedPaths.problem(rootKeyFile, "the manifest root key");
            if (problem.isPresent()) {
                throw new FetchException(FetchFailure.CONFIGURATION, problem.get() + "; no manifest is trusted until "
                        + "then", null, 0, null);
            }
            String text = Files.readString(rootKeyFile, StandardCharsets.US_ASCII);
            return MinisignKey.parse(text, rootKeyFile.toString());
        } catch (IOException e) {
            throw new FetchException(FetchFailure.CONFIGURATION, "cannot read the manifest root key " + rootKeyFile
                    + ": " + e.getMessage() + "; give a readable minisign public key file (minisign -G)", null, 0, e);
        } catch (IllegalArgumentException e) {
            throw new FetchException(FetchFailure.CONFIGURATION, e.getMessage(), null, 0, e);
        }
    }

    /** The root key. */
    public MinisignKey root() {
        return root;
    }

    /** Where accepted versions are recorded. */
    public Path stateFile() {
        return stateFile;
    }

    @Override
    public String toString() {
        return "manifests under root " + root + ", state in " + stateFile;
    }
}
