package dev.whatami.fetch;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.testsupport.FakeTime;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A remote server may not redirect the fetcher to the metadata service or loopback. The "remote" host is a name the
 * test's resolver maps to 127.0.0.1; it refuses every other host, so nothing ever leaves loopback.
 */
class RedirectToLocalTest {
    private static final byte[] SCRIPT = "#!/bin/sh\necho local\n".getBytes(UTF_8);

    @TempDir
    Path dir;
    private final FileServer server = new FileServer();
    private final FakeTime time = new FakeTime();
    private final List<String> resolved = new CopyOnWriteArrayList<>();
    private final DnsResolver loopbackOnly = new DnsResolver() {
        @Override
        public InetAddress[] resolve(String host) throws UnknownHostException {
            resolved.add(host);
            if (!host.equals("files.example.test") && !host.equals("127.0.0.1")) {
                throw new UnknownHostException("the test connects only to loopback, not " + host);
            }
            return new InetAddress[] {InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1})};
        }

        @Override
        public String resolveCanonicalHostname(String host) throws UnknownHostException {
            return resolve(host)[0].getHostName();
        }
    };
    private final CloseableHttpClient http = HttpClients.custom().setConnectionManager(
            PoolingHttpClientConnectionManagerBuilder.create().setDnsResolver(loopbackOnly).build()).build();

    @AfterEach
    void stop() throws Exception {
        http.close();
        server.close();
    }

    private URI remote(String path) {
        return URI.create("http://files.example.test:" + server.port() + path);
    }

    private ScriptFetcher fetcher() {
        return ScriptFetcher.builder().clock(time).sleeper(time::sleep).retryPolicy(ScriptFetcherTest.THREE)
                .httpClient(http).build();
    }

    @Test
    void aRemoteRedirectToTheMetadataAddress_isRefusedBeforeConnecting() {
        server.redirectOnce("/c.sh", URI.create("http://169.254.169.254/latest/user-data?x=1"));
        try (ScriptFetcher f = fetcher()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(remote("/c.sh"), dir, "c.sh").build()))
                    .isInstanceOfSatisfying(FetchRefusedException.class,
                            e -> assertThat(e.reason()).isEqualTo(RefusalReason.REDIRECT_TO_LOCAL))
                    .hasMessageContaining("it redirects to 169.254.169.254, a link-local address, and a remote "
                            + "server may not send the fetcher there")
                    .message().doesNotContain("x=1");
        }
        assertThat(resolved).containsOnly("files.example.test");
        assertThat(dir.resolve("c.sh")).doesNotExist();
    }

    @Test
    void aRemoteRedirectToLoopback_isRefused() {
        server.redirectOnce("/c.sh", server.url("/x.sh"));
        server.file("/x.sh", SCRIPT);
        try (ScriptFetcher f = fetcher()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(remote("/c.sh"), dir, "c.sh").build()))
                    .isInstanceOfSatisfying(FetchRefusedException.class,
                            e -> assertThat(e.reason()).isEqualTo(RefusalReason.REDIRECT_TO_LOCAL))
                    .hasMessageContaining("it redirects to 127.0.0.1, a loopback address");
        }
        assertThat(server.hits("/x.sh")).isZero();
        assertThat(resolved).containsOnly("files.example.test");
    }

    @Test
    void aRemoteRedirectToTheMetadataName_orADisguisedAddress_isRefused() {
        for (String to : List.of("http://metadata.google.internal./computeMetadata/v1/",
                "http://2852039166/latest/", "http://[::ffff:169.254.169.254]/", "http://[fd00:ec2::254]/",
                "http://localhost:1/")) {
            server.redirectOnce("/c.sh", URI.create(to));
            try (ScriptFetcher f = fetcher()) {
                assertThatThrownBy(() -> f.fetch(FetchRequest.builder(remote("/c.sh"), dir, "c.sh").build()))
                        .as(to).isInstanceOfSatisfying(FetchRefusedException.class,
                                e -> assertThat(e.reason()).isEqualTo(RefusalReason.REDIRECT_TO_LOCAL));
            }
        }
        assertThat(resolved).containsOnly("files.example.test");
    }

    @Test
    void aLoopbackRedirectToLoopback_isFollowed() throws Exception {
        server.redirectOnce("/c.sh", server.url("/x.sh"));
        server.file("/x.sh", SCRIPT);
        try (ScriptFetcher f = fetcher()) {
            FetchResult r = f.fetch(FetchRequest.builder(server.url("/c.sh"), dir, "c.sh").build());
            assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
        }
    }
}
