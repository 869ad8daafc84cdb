package dev.whatami.metadata;

import java.util.Optional;

/**
 * What the instance's own identity gives a program that fetches from cloud storage: the EC2 role's temporary
 * credentials and region, the GCE service account's token, the Azure managed identity's token. Each asks its own
 * cloud's metadata service (at the client's {@code endpoint}, when one was given), whatever provider the client
 * detected, with the client's retry policy, deadline and IMDSv2 handling.
 *
 * <p>Answers are cached and renewed before they expire (5 minutes before, or a quarter of their lifetime when that
 * is shorter). Empty means the instance has no such identity (no role attached, no service account, no managed
 * identity) — the caller may then go anonymous. Failures to reach the service throw as {@link MetadataClient} does.
 * Nothing here logs or puts a credential or token in a message.
 *
 * <pre>{@code
 * try (MetadataClient metadata = MetadataClient.builder().build()) {
 *     InstanceCredentials ids = metadata.instanceCredentials();
 *     Optional<AwsCredentials> aws = ids.awsCredentials();    // sign s3:// requests with these
 *     Optional<String> region = ids.awsRegion();
 * }
 * }</pre>
 *
 * Thread-safe; lives as long as the {@link MetadataClient} it came from.
 */
public interface InstanceCredentials {
    /**
     * The EC2 instance role's temporary credentials ({@code iam/security-credentials/<role>}), renewed before their
     * {@code Expiration}; empty when no role is attached.
     *
     * @throws MetadataRefusedException when the service answers for the role but not with credentials
     */
    Optional<AwsCredentials> awsCredentials();

    /** The region of the EC2 instance, from its identity document; empty when the document names none. */
    Optional<String> awsRegion();

    /** The GCE default service account's access token; empty when the VM has no service account. */
    Optional<AccessToken> gceAccessToken();

    /**
     * The Azure managed identity's access token for {@code resource} (e.g. {@code https://storage.azure.com/});
     * empty when no identity is assigned to the VM. Request headers such as {@code x-ms-version} are the caller's.
     */
    Optional<AccessToken> azureAccessToken(String resource);
}
