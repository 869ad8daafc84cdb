package dev.whatami.fetch;

import dev.whatami.metadata.AccessToken;
import java.net.URI;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * How Azure blob URLs ({@code https://<account>.blob.core.windows.net/<container>/<blob>}) are fetched: with the
 * managed identity's OAuth token for {@code https://storage.azure.com/} and {@code x-ms-version}, anonymous when no
 * identity is assigned; a URL carrying a SAS (a query string) is sent as it is, without the token. Immutable.
 */
public final class AzureBlobAccess {
    /** The REST API version sent as {@code x-ms-version} (bearer tokens need 2017-11-09 or later). */
    public static final String API_VERSION = "2023-11-03";

    private final CloudCredentials<AccessToken> credentials;
    private final Optional<URI> endpoint;

    private AzureBlobAccess(CloudCredentials<AccessToken> credentials, Optional<URI> endpoint) {
        this.credentials = credentials;
        this.endpoint = endpoint;
    }

    /** @param credentials the managed identity's token, empty when none is assigned */
    public static AzureBlobAccess of(CloudCredentials<AccessToken> credentials) {
        return new AzureBlobAccess(Objects.requireNonNull(credentials, "credentials"), Optional.empty());
    }

    /**
     * The same against a local endpoint in the Azurite layout ({@code <endpoint>/<account>/<container>/<blob>}), e.g.
     * {@code http://127.0.0.1:10000}: for tests and emulators.
     */
    public AzureBlobAccess withEndpoint(URI endpoint) {
        Objects.requireNonNull(endpoint, "endpoint");
        String scheme = endpoint.getScheme() == null ? "" : endpoint.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || endpoint.getHost() == null) {
            throw new IllegalArgumentException("the blob endpoint must be an http(s) URL of a host, got "
                    + dev.whatami.userdata.Redact.url(endpoint));
        }
        return new AzureBlobAccess(credentials, Optional.of(endpoint));
    }

    public CloudCredentials<AccessToken> credentials() {
        return credentials;
    }

    public Optional<URI> endpoint() {
        return endpoint;
    }

    @Override
    public String toString() {
        return "AzureBlobAccess[" + endpoint.map(URI::toString).orElse("Azure") + "]";
    }
}
