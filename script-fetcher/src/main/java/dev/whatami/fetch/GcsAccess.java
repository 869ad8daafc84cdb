package dev.whatami.fetch;

import dev.whatami.metadata.AccessToken;
import java.net.URI;
import java.util.Locale;
import java.util.Objects;

/**
 * How {@code gs://bucket/object} URLs are fetched: a GET of the object's media through the Cloud Storage JSON API
 * ({@code /storage/v1/b/<bucket>/o/<object>?alt=media}) with the GCE service account's OAuth token, or anonymous when
 * the VM has none. Immutable.
 */
public final class GcsAccess {
    /** Google's endpoint. */
    public static final URI GOOGLE = URI.create("https://storage.googleapis.com");

    private final URI endpoint;
    private final CloudCredentials<AccessToken> credentials;

    private GcsAccess(URI endpoint, CloudCredentials<AccessToken> credentials) {
        this.endpoint = endpoint;
        this.credentials = credentials;
    }

    /**
     * @param credentials the service account's token ({@code instance/service-accounts/default/token}), empty when the
     *                    VM has none
     */
    public static GcsAccess of(CloudCredentials<AccessToken> credentials) {
        return new GcsAccess(GOOGLE, Objects.requireNonNull(credentials, "credentials"));
    }

    /** The same against another endpoint (an emulator, a private endpoint), e.g. {@code http://127.0.0.1:4443}. */
    public GcsAccess withEndpoint(URI endpoint) {
        Objects.requireNonNull(endpoint, "endpoint");
        String scheme = endpoint.getScheme() == null ? "" : endpoint.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || endpoint.getHost() == null) {
            throw new IllegalArgumentException("the Cloud Storage endpoint must be an http(s) URL of a host, got "
                    + dev.whatami.userdata.Redact.url(endpoint));
        }
        return new GcsAccess(endpoint, credentials);
    }

    public URI endpoint() {
        return endpoint;
    }

    public CloudCredentials<AccessToken> credentials() {
        return credentials;
    }

    @Override
    public String toString() {
        return "GcsAccess[" + endpoint + "]";
    }
}
