package dev.whatami.fetch;

import dev.whatami.metadata.AwsCredentials;
import java.net.URI;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How {@code s3://bucket/key[?versionId=...]} URLs are fetched: SigV4-signed GETs with the given credentials, in the
 * given region (a bucket in another region is found from S3's {@code x-amz-bucket-region} answer and asked again
 * there), against AWS or an S3-compatible endpoint (MinIO, Ceph, S3Proxy). Immutable.
 *
 * <pre>{@code
 * S3Access s3 = S3Access.fromEnvironment(System.getenv(), instanceRoleCredentials, Optional.of(identity.region()));
 * ScriptFetcher fetcher = ScriptFetcher.builder().s3(s3).build();
 * }</pre>
 */
public final class S3Access {
    private final String region;
    private final Optional<URI> endpoint;
    private final Optional<Boolean> pathStyle;
    private final CloudCredentials<AwsCredentials> credentials;

    private S3Access(Builder b) {
        this.region = b.region;
        this.endpoint = b.endpoint;
        this.pathStyle = b.pathStyle;
        this.credentials = b.credentials;
    }

    /** A builder with every setting at its default. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The settings AWS's own tools read, from {@code env} (a map the application passes in; the library never reads
     * the process environment): {@code AWS_ENDPOINT_URL_S3}, else {@code AWS_ENDPOINT_URL}; {@code AWS_ACCESS_KEY_ID}
     * + {@code AWS_SECRET_ACCESS_KEY} (+ {@code AWS_SESSION_TOKEN}), else {@code instanceRole} (the metadata
     * service's role credentials, empty when no role is attached); {@code AWS_REGION}, else
     * {@code AWS_DEFAULT_REGION}, else {@code instanceRegion}, else {@code us-east-1}.
     *
     * @throws IllegalArgumentException when only one of the key id and the secret is set, or an endpoint is not an
     *                                  http(s) URL
     */
    public static S3Access fromEnvironment(Map<String, String> env, CloudCredentials<AwsCredentials> instanceRole,
                                           Optional<String> instanceRegion) {
        Builder b = builder();
        Optional<String> endpoint = value(env, "AWS_ENDPOINT_URL_S3").or(() -> value(env, "AWS_ENDPOINT_URL"));
        endpoint.ifPresent(e -> b.endpoint(URI.create(e)));
        Optional<String> id = value(env, "AWS_ACCESS_KEY_ID");
        Optional<String> secret = value(env, "AWS_SECRET_ACCESS_KEY");
        if (id.isPresent() != secret.isPresent()) {
            throw new IllegalArgumentException((id.isPresent() ? "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY "
                    + "is not" : "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not") + "; set both, or "
                    + "neither to use the instance's role");
        }
        if (id.isPresent()) {
            b.credentials(CloudCredentials.fixed(new AwsCredentials(id.get(), secret.get(),
                    value(env, "AWS_SESSION_TOKEN"), Optional.empty())));
        } else {
            b.credentials(instanceRole);
        }
        value(env, "AWS_REGION").or(() -> value(env, "AWS_DEFAULT_REGION")).or(() -> instanceRegion)
                .ifPresent(b::region);
        return b.build();
    }

    private static Optional<String> value(Map<String, String> env, String name) {
        return Optional.ofNullable(env.get(name)).map(String::strip).filter(v -> !v.isEmpty());
    }

    /** The region requests are signed for first. */
    public String region() {
        return region;
    }

    /** The S3-compatible endpoint, when not AWS. */
    public Optional<URI> endpoint() {
        return endpoint;
    }

    /**
     * Whether the bucket goes in the path ({@code endpoint/bucket/key}) rather than the host name: as set, else
     * always for an IP address or {@code localhost} endpoint and for bucket names with dots on AWS.
     */
    public boolean pathStyle(String bucket) {
        if (pathStyle.isPresent()) {
            return pathStyle.get();
        }
        if (endpoint.isPresent()) {
            String host = endpoint.get().getHost() == null ? "" : endpoint.get().getHost().toLowerCase(Locale.ROOT);
            return host.equals("localhost") || host.matches("[0-9.]+") || host.startsWith("[") || host.contains(":");
        }
        return bucket.contains(".");
    }

    /** Where credentials come from. */
    public CloudCredentials<AwsCredentials> credentials() {
        return credentials;
    }

    @Override
    public String toString() {
        return "S3Access[region=" + region + endpoint.map(e -> ", endpoint=" + e).orElse("") + "]";
    }

    /** Builds {@link S3Access}. Not thread-safe. */
    public static final class Builder {
        private String region = "us-east-1";
        private Optional<URI> endpoint = Optional.empty();
        private Optional<Boolean> pathStyle = Optional.empty();
        private CloudCredentials<AwsCredentials> credentials = CloudCredentials.anonymous();

        private Builder() {
        }

        /** The region to sign for first, e.g. {@code eu-west-1}. Default: {@code us-east-1}. */
        public Builder region(String region) {
            Objects.requireNonNull(region, "region");
            if (!region.matches("[a-z0-9-]+")) {
                throw new IllegalArgumentException("region must look like eu-west-1, got \"" + region + "\"");
            }
            this.region = region;
            return this;
        }

        /**
         * An S3-compatible endpoint, e.g. {@code http://127.0.0.1:9000}. Default: AWS
         * ({@code https://<bucket>.s3.<region>.amazonaws.com}).
         */
        public Builder endpoint(URI endpoint) {
            Objects.requireNonNull(endpoint, "endpoint");
            String scheme = endpoint.getScheme() == null ? "" : endpoint.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || endpoint.getHost() == null
                    || endpoint.getRawUserInfo() != null) {
                throw new IllegalArgumentException("the S3 endpoint must be an http(s) URL of a host, without "
                        + "credentials, e.g. http://127.0.0.1:9000; got " + dev.whatami.userdata.Redact.url(endpoint));
            }
            this.endpoint = Optional.of(endpoint);
            return this;
        }

        /** Bucket in the path rather than the host name. Default: decided per request ({@link #pathStyle(String)}). */
        public Builder pathStyle(boolean pathStyle) {
            this.pathStyle = Optional.of(pathStyle);
            return this;
        }

        /** Where credentials come from. Default: {@link CloudCredentials#anonymous()}. */
        public Builder credentials(CloudCredentials<AwsCredentials> credentials) {
            this.credentials = Objects.requireNonNull(credentials, "credentials");
            return this;
        }

        public S3Access build() {
            return new S3Access(this);
        }
    }
}
