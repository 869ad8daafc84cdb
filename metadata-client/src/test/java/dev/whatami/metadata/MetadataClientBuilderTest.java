package dev.whatami.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.emulator.MetadataEmulator;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The AWS SDK's environment settings, resolved from a map the caller gives; conflicts refused at build(). */
class MetadataClientBuilderTest {
    /**
     * The client's resolved settings. It is never asked anything: its HTTP client refuses every request, so the
     * default endpoints these tests name (169.254.169.254, fd00:ec2::254) are never sent a packet.
     */
    private static String describe(MetadataClient.Builder b) {
        try (MetadataClient c = b.httpClient(NoRequests.INSTANCE).build()) {
            return c.toString();
        }
    }

    /** An HTTP client that fails the test on any request. */
    private static final class NoRequests extends org.apache.hc.client5.http.impl.classic.CloseableHttpClient {
        static final NoRequests INSTANCE = new NoRequests();

        @Override
        protected org.apache.hc.client5.http.impl.classic.CloseableHttpResponse doExecute(
                org.apache.hc.core5.http.HttpHost target, org.apache.hc.core5.http.ClassicHttpRequest request,
                org.apache.hc.core5.http.protocol.HttpContext context) {
            throw new AssertionError("a describe-only client sent a request to " + target);
        }

        @Override
        public void close() {
        }

        @Override
        public void close(org.apache.hc.core5.io.CloseMode mode) {
        }
    }

    @Test
    void environmentEndpoint_isUsed_andExplicitCallsWin() {
        try (MetadataEmulator imds = MetadataEmulator.builder().userData("from env").start();
             MetadataClient c = MetadataClient.builder().environment(Map.of("AWS_EC2_METADATA_SERVICE_ENDPOINT",
                     imds.endpoint() + "/")).retryPolicy(RetryPolicy.none()).build()) {
            assertThat(new String(c.userData().orElseThrow(), StandardCharsets.UTF_8)).isEqualTo("from env");
        }
        assertThat(describe(MetadataClient.builder().endpoint(URI.create("http://127.0.0.1:1"))
                .environment(Map.of("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:2"))))
                .contains("endpoint=http://127.0.0.1:1,");
        assertThat(describe(MetadataClient.builder().endpointMode(EndpointMode.IPV4)
                .environment(Map.of("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:2"))))
                .contains("endpoint=default (http://169.254.169.254 for ec2)");
    }

    @Test
    void environmentEndpointMode_anyCase_ignoredWhenAnEndpointIsSet() {
        assertThat(describe(MetadataClient.builder().environment(Map.of("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
                "ipv6")))).contains("endpoint=default (http://[fd00:ec2::254] for ec2)");
        assertThat(describe(MetadataClient.builder().environment(Map.of("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
                "IPv6", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:3")))).contains("endpoint=http://127.0.0.1:3,");
        assertThat(describe(MetadataClient.builder())).contains("endpoint=default (http://169.254.169.254 for ec2)");
    }

    @Test
    void environmentFlags_andExplicitCallsWin() {
        assertThat(describe(MetadataClient.builder().environment(Map.of("AWS_EC2_METADATA_V1_DISABLED", "TRUE"))))
                .contains("imdsV2Required=true");
        assertThat(describe(MetadataClient.builder().imdsV2Required(false)
                .environment(Map.of("AWS_EC2_METADATA_V1_DISABLED", "true")))).contains("imdsV2Required=false");
        assertThat(describe(MetadataClient.builder().autoDetect()
                .environment(Map.of("AWS_EC2_METADATA_DISABLED", "true")))).contains("ec2Disabled=true");
        assertThatThrownBy(() -> MetadataClient.builder().environment(Map.of("AWS_EC2_METADATA_DISABLED", "true"))
                .build()).isInstanceOf(MetadataRefusedException.class)
                .hasMessage("the EC2 metadata service is disabled (ec2Disabled(true), which "
                        + "AWS_EC2_METADATA_DISABLED=true sets); call ec2Disabled(false), or give the user-data "
                        + "another way (provider(Provider.NOCLOUD) with noCloudSource(path))");
    }

    @Test
    void badEnvironmentValues_nameTheVariable() {
        assertThatThrownBy(() -> MetadataClient.builder().environment(Map.of("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
                "IPv5")).build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 or IPv6, got IPv5");
        assertThatThrownBy(() -> MetadataClient.builder().environment(Map.of("AWS_EC2_METADATA_V1_DISABLED", "yes"))
                .build()).hasMessage("AWS_EC2_METADATA_V1_DISABLED must be true or false, got yes");
        assertThatThrownBy(() -> MetadataClient.builder().environment(Map.of("AWS_EC2_METADATA_SERVICE_ENDPOINT",
                "169.254.169.254")).build()).hasMessage("AWS_EC2_METADATA_SERVICE_ENDPOINT must be an http or https "
                + "URL with a host, e.g. http://127.0.0.1:8080; got 169.254.169.254");
    }

    @Test
    void endpointAndEndpointMode_together_areRefusedAsAwsRefusesThem() {
        assertThatThrownBy(() -> MetadataClient.builder().endpoint(URI.create("http://127.0.0.1:8080"))
                .endpointMode(EndpointMode.IPV6).build()).isInstanceOf(IllegalStateException.class)
                .hasMessage("give endpoint(http://127.0.0.1:8080) or endpointMode(IPV6), not both: the endpoint names "
                        + "the address itself (the AWS SDKs refuse both too)");
    }
}
