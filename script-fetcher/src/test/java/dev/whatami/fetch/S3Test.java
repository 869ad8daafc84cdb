package dev.whatami.fetch;

import dev.whatami.metadata.AwsCredentials;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.whatami.metadata.RetryPolicy;
import dev.whatami.status.Trust;
import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * {@code s3://} against a real third-party S3 implementation: S3Proxy 4.1.0 in-process on loopback, with
 * {@code aws-v4} authentication — it verifies every signature (unsigned or wrongly signed requests get 403).
 */
class S3Test {
    private static final String KEY_ID = "AKIDWHATAMITEST";
    private static final String SECRET = "wJalrXUtnFEMI/K7MDENG+whatami+test+secret";
    private static final byte[] SCRIPT = "#!/bin/sh\necho from a bucket\n".getBytes(UTF_8);
    private static final RetryPolicy QUICK = RetryPolicy.builder().maxAttempts(2).baseDelay(Duration.ofMillis(10))
            .maxDelay(Duration.ofMillis(10)).jitter(false).build();

    static S3Proxy proxy;
    static BlobStore store;
    static URI endpoint;
    static Keys owner;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        store = new TransientNio2BlobStore();
        proxy = S3Proxy.builder().blobStore(store).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V4, KEY_ID, SECRET).ignoreUnknownHeaders(true).build();
        proxy.start();
        for (int i = 0; i < 200 && !"STARTED".equals(proxy.getState()); i++) {
            Thread.sleep(50);
        }
        endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
        owner = new Keys();
        store.createContainer("roles");
        store.createContainer("mirror-bucket");
        put("roles", "collector.pl", SCRIPT);
        put("roles", "collector.pl.sig", owner.signBase64(SCRIPT));
        put("roles", "dir/with space+plus.sh", SCRIPT);
        put("mirror-bucket", "collector.pl", SCRIPT);
    }

    static void put(String bucket, String key, byte[] data) {
        store.putBlob(PutObjectRequest.builder().bucket(bucket).key(key).contentLength((long) data.length).build(),
                new ByteArrayInputStream(data));
    }

    @AfterAll
    static void stop() throws Exception {
        proxy.stop();
    }

    private static S3Access access(CloudCredentials<AwsCredentials> credentials) {
        return S3Access.builder().endpoint(endpoint).credentials(credentials).build();
    }

    private static CloudCredentials<AwsCredentials> good() {
        return CloudCredentials.fixed(new AwsCredentials(KEY_ID, SECRET, Optional.empty(), Optional.empty()));
    }

    private ScriptFetcher fetcher(S3Access s3) {
        return ScriptFetcher.builder().retryPolicy(QUICK).s3(() -> s3).build();
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void aSignedGet_withTheRightKeys_fetchesTheObject_andAPinHolds() throws Exception {
        try (ScriptFetcher f = fetcher(access(good()))) {
            FetchResult r = f.fetch(FetchRequest.builder(URI.create("s3://roles/collector.pl"), dir, "collector.pl")
                    .digest(Optional.of(new Digest(DigestAlgorithm.SHA256, sha256(SCRIPT)))).build());
            assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
            assertThat(r.trust()).isEqualTo(Trust.PIN);
            assertThat(r.source()).isEqualTo(URI.create("s3://roles/collector.pl"));
        }
    }

    @Test
    void keysThatNeedEncoding_areSignedAsSent() throws Exception {
        try (ScriptFetcher f = fetcher(access(good()))) {
            FetchResult r = f.fetch(FetchRequest.builder(URI.create("s3://roles/dir/with%20space+plus.sh"), dir,
                    "x.sh").build());
            assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
        }
    }

    @Test
    void aWrongSecret_isNotFetched_sayingWhatS3Said_andNeverShowingTheSecret() {
        try (ScriptFetcher f = fetcher(access(CloudCredentials.fixed(new AwsCredentials(KEY_ID, "not-the-secret", Optional.empty(), Optional.empty()))))) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(URI.create("s3://roles/collector.pl"), dir,
                    "collector.pl").build()))
                    .isInstanceOfSatisfying(FetchException.class, e -> {
                        assertThat(e).isNotInstanceOf(FetchRefusedException.class);
                        assertThat(e.failure()).isEqualTo(FetchFailure.CLIENT_ERROR);
                    })
                    .hasMessageContaining("s3://roles/collector.pl (HTTP 403 Forbidden (S3 says SignatureDoesNotMatch")
                    .hasMessageNotContaining("not-the-secret");
        }
    }

    @Test
    void anonymous_isRefusedByAPrivateBucket_asAccessDenied() {
        try (ScriptFetcher f = fetcher(access(CloudCredentials.anonymous()))) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(URI.create("s3://roles/collector.pl"), dir,
                    "collector.pl").build()))
                    .isInstanceOfSatisfying(FetchException.class,
                            e -> assertThat(e.failure()).isEqualTo(FetchFailure.CLIENT_ERROR))
                    .hasMessageContaining("HTTP 403 Forbidden (S3 says AccessDenied");
        }
    }

    @Test
    void temporaryCredentials_areAskedForBeforeEveryRequest_andTheirTokenSent() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        CloudCredentials<AwsCredentials> role = () -> {
            asked.incrementAndGet();
            return Optional.of(new AwsCredentials(KEY_ID, SECRET, Optional.of("FwoGZXIvYXdzEXAMPLETOKEN"),
                    Optional.of(Instant.now().plusSeconds(3600))));
        };
        try (ScriptFetcher f = ScriptFetcher.builder().retryPolicy(QUICK).s3(() -> access(role))
                .trustedKeys(TrustedKeys.of("owner.pub", owner.publicPem())).build()) {
            FetchResult r = f.fetch(FetchRequest.builder(URI.create("s3://roles/collector.pl"), dir, "collector.pl")
                    .build());
            assertThat(r.trust()).isEqualTo(Trust.SIGNATURE); // s3://roles/collector.pl.sig, signed too
        }
        assertThat(asked.get()).isEqualTo(2); // the script and its signature
    }

    @Test
    void aMirrorInAnotherBucket_servesWhenThePrimaryBucketLacksIt() throws Exception {
        try (ScriptFetcher f = fetcher(access(good()))) {
            FetchResult r = f.fetch(FetchRequest.builder(URI.create("s3://no-such-bucket/collector.pl"), dir,
                    "collector.pl").mirrors(List.of(URI.create("s3://mirror-bucket/collector.pl"))).build());
            assertThat(r.source()).isEqualTo(URI.create("s3://mirror-bucket/collector.pl"));
        }
    }

    @Test
    void aMissingObject_isNotFound() {
        try (ScriptFetcher f = fetcher(access(good()))) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(URI.create("s3://roles/missing.pl"), dir,
                    "missing.pl").build()))
                    .isInstanceOfSatisfying(FetchException.class,
                            e -> assertThat(e.failure()).isEqualTo(FetchFailure.NOT_FOUND))
                    .hasMessageContaining("(HTTP 404 Not Found (S3 says NoSuchKey");
        }
    }

    /** A second opinion on the signing: curl's own SigV4 ({@code --aws-sigv4}) reads what the fetcher reads. */
    @Test
    void curlsSigV4_andOurs_agreeWithS3Proxy() throws Exception {
        boolean curl = Files.isExecutable(Path.of("/usr/bin/curl"));
        if (!curl) {
            System.err.println("SKIPPED S3Test.curlsSigV4_andOurs_agreeWithS3Proxy: /usr/bin/curl is not installed");
        }
        assumeTrue(curl, "curl is not installed");
        Path viaCurl = dir.resolve("via-curl");
        assertThat(curl(SECRET, "-o", viaCurl.toString(), endpoint + "/roles/collector.pl")).isEqualTo("200");
        assertThat(curl("not-the-secret", "-o", "/dev/null", endpoint + "/roles/collector.pl")).isEqualTo("403");
        try (ScriptFetcher f = fetcher(access(good()))) {
            FetchResult r = f.fetch(FetchRequest.builder(URI.create("s3://roles/collector.pl"), dir, "c.pl").build());
            assertThat(Files.readAllBytes(r.path())).isEqualTo(Files.readAllBytes(viaCurl)).isEqualTo(SCRIPT);
        }
    }

    private static String curl(String secret, String... args) throws Exception {
        List<String> cmd = new CopyOnWriteArrayList<>(List.of("curl", "-s", "-w", "%{http_code}", "--aws-sigv4",
                "aws:amz:us-east-1:s3", "--user", KEY_ID + ":" + secret, "-H", "x-amz-content-sha256: "
                        + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out.substring(Math.max(0, out.length() - 3));
    }

    /**
     * A bucket in another region: S3 answers 301 with {@code x-amz-bucket-region} (and no Location); the request is
     * signed again for that region. A fake here, since S3Proxy has one region.
     */
    @Test
    void aBucketInAnotherRegion_isAskedAgainThere() throws Exception {
        List<String> scopes = new CopyOnWriteArrayList<>();
        try (FileServer fake = new FileServer()) {
            fake.always("/roles/c.sh", ex -> {
                String auth = ex.getRequestHeaders().getFirst("Authorization");
                scopes.add(auth.replaceAll(".*Credential=[^/]+/\\d+/([^/]+)/s3/.*", "$1"));
                if (auth.contains("/eu-west-1/")) {
                    FileServer.respond(ex, 200, SCRIPT, Map.of());
                } else {
                    FileServer.respond(ex, 301, "<Error><Code>PermanentRedirect</Code></Error>".getBytes(UTF_8),
                            Map.of("x-amz-bucket-region", "eu-west-1"));
                }
            });
            S3Access s3 = S3Access.builder().endpoint(fake.url("/")).credentials(good()).build();
            try (ScriptFetcher f = fetcher(s3)) {
                FetchResult r = f.fetch(FetchRequest.builder(URI.create("s3://roles/c.sh"), dir, "c.sh").build());
                assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
                f.fetch(FetchRequest.builder(URI.create("s3://roles/c.sh"), dir, "c.sh").build());
            }
        }
        assertThat(scopes).containsExactly("us-east-1", "eu-west-1", "eu-west-1"); // remembered for the next fetch
    }

    @Test
    void theEnvironment_isReadTheWayAwsToolsReadIt() {
        S3Access fromEnv = S3Access.fromEnvironment(Map.of("AWS_ENDPOINT_URL_S3", endpoint.toString(),
                "AWS_ENDPOINT_URL", "http://elsewhere:1", "AWS_ACCESS_KEY_ID", KEY_ID, "AWS_SECRET_ACCESS_KEY", SECRET,
                "AWS_DEFAULT_REGION", "ap-south-1"), CloudCredentials.anonymous(), Optional.of("eu-central-1"));
        assertThat(fromEnv.endpoint()).contains(endpoint);
        assertThat(fromEnv.region()).isEqualTo("ap-south-1");
        assertThat(fromEnv.credentials().get()).map(AwsCredentials::accessKeyId).contains(KEY_ID);
        assertThat(fromEnv.pathStyle("roles")).isTrue(); // an IP endpoint
        assertThat(fromEnv.credentials().get().orElseThrow().toString()).doesNotContain(SECRET);

        S3Access role = S3Access.fromEnvironment(Map.of(), good(), Optional.of("eu-central-1"));
        assertThat(role.region()).isEqualTo("eu-central-1");
        assertThat(role.endpoint()).isEmpty();
        assertThat(role.pathStyle("roles")).isFalse();
        assertThat(role.pathStyle("my.dotted.bucket")).isTrue();

        assertThatThrownBy(() -> S3Access.fromEnvironment(Map.of("AWS_ACCESS_KEY_ID", KEY_ID),
                CloudCredentials.anonymous(), Optional.empty()))
                .hasMessage("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not; set both, or neither to use "
                        + "the instance's role");
    }
}
