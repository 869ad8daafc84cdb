package dev.whatami.metadata;

import java.net.URI;

/** Which address the EC2 metadata service is reached at, as the AWS SDKs name it. */
public enum EndpointMode {
    /** {@code http://169.254.169.254}. */
    IPV4(URI.create("http://169.254.169.254")),
    /** {@code http://[fd00:ec2::254]}, on Nitro instances with IPv6 metadata enabled. */
    IPV6(URI.create("http://[fd00:ec2::254]"));

    private final URI endpoint;

    EndpointMode(URI endpoint) {
        this.endpoint = endpoint;
    }

    public URI endpoint() {
        return endpoint;
    }
}
