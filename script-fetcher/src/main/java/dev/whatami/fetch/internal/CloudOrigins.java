package dev.whatami.fetch.internal;

import dev.whatami.fetch.S3Access;
import java.time.Clock;

/**
 * Makes cloud origins. A class of its own so that the fetcher's own code names no cloud origin class: the JVM loads
 * {@link S3Origin} and the signer only when this is first called, i.e. for the first {@code s3://} URL.
 */
final class CloudOrigins {
    private CloudOrigins() {
    }

    static Origin s3(S3Access access, Clock clock) {
        return new S3Origin(access, clock);
    }

    static Origin gcs(dev.whatami.fetch.GcsAccess access) {
        return new BearerOrigins.Gcs(access);
    }

    static Origin azure(dev.whatami.fetch.AzureBlobAccess access, Clock clock) {
        return new BearerOrigins.Azure(access, clock);
    }
}
