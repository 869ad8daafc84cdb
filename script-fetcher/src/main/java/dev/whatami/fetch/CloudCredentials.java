package dev.whatami.fetch;

import dev.whatami.metadata.AccessToken;
import dev.whatami.metadata.AwsCredentials;
import java.util.Optional;

/**
 * Where a cloud origin's credentials come from, asked before every request that needs them (so a provider backed by
 * the instance's metadata service can refresh them before they expire). Empty means the instance has no identity: the
 * request goes out anonymous. Must be thread-safe; must not block past a few seconds.
 *
 * @param <T> {@link AwsCredentials} for {@code s3://}, {@link AccessToken} for {@code gs://} and Azure blobs
 */
@FunctionalInterface
public interface CloudCredentials<T> {
    /** The credentials to sign the next request with, or empty for anonymous. */
    Optional<T> get();

    /** No identity: every request anonymous. */
    static <T> CloudCredentials<T> anonymous() {
        return Optional::empty;
    }

    /** The same credentials every time. */
    static <T> CloudCredentials<T> fixed(T credentials) {
        Optional<T> it = Optional.of(credentials);
        return () -> it;
    }
}
