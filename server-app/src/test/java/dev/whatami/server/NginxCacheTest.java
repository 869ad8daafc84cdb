package dev.whatami.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.whatami.fetch.FetchRequest;
import dev.whatami.fetch.FetchResult;
import dev.whatami.fetch.IntegrityException;
import dev.whatami.fetch.RefusalReason;
import dev.whatami.fetch.SignatureRefusedException;
import dev.whatami.fetch.ScriptFetcher;
import dev.whatami.fetch.TrustedKeys;
import dev.whatami.metadata.RetryPolicy;
import dev.whatami.status.Trust;
import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Caches in front: a real nginx {@code proxy_cache} — configured as the README says — between the agent's
 * fetcher and the server keeps the script and revalidates it on every request (the server's
 * {@code X-Accel-Expires: @1} ahead of {@code Cache-Control: no-cache}, and the strong ETag: a 304 while nothing
 * changed); a script replaced on the server is what the next fetch gets, and its signature verifies. A cache that
 * ignores the server and serves its stale copy cannot make the agent run it: the new pin refuses the old bytes.
 */
class NginxCacheTest {
    @TempDir
    Path dir;

    private static final String CACHE = """
              proxy_cache_path $DIR/cache levels=1:2 keys_zone=scripts:10m max_size=1g inactive=7d use_temp_path=off;
              # another cache: the key is the URI sent upstream, so one zone would make the two locations one cache
              proxy_cache_path $DIR/stale levels=1:2 keys_zone=stale:1m use_temp_path=off;
              server {
                listen 127.0.0.1:$PORT;
                # as the README says: keep scripts, revalidate every use
                location /scriptserver/ {
                  proxy_pass http://127.0.0.1:UPSTREAM;
                  proxy_cache scripts;
                  proxy_cache_revalidate on;
                  proxy_cache_lock on;
                  add_header X-Cache-Status $upstream_cache_status always;
                }
                # a cache that ignores what the server says and serves its copy for an hour
                location /stale/ {
                  proxy_pass http://127.0.0.1:UPSTREAM/scriptserver/;
                  proxy_cache stale;
                  proxy_ignore_headers X-Accel-Expires Cache-Control Expires;
                  proxy_cache_valid 200 1h;
                  add_header X-Cache-Status $upstream_cache_status always;
                }
              }
            """;

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    /** A fetch of collector.pl from {@code url} into {@code into}, pinned to {@code version}'s SHA-256. */
    private static FetchRequest pinned(URI url, Path into, String version) throws Exception {
        return FetchRequest.builder(url, into, "collector.pl")
                .digest(Optional.of(new Digest(DigestAlgorithm.SHA256, sha256(version)))).build();
    }

    /** Replaces the script the way an upload does (a new file renamed over it). */
    private static void replace(Path root, String content) throws Exception {
        Path tmp = root.resolve(".collector.pl.tmp");
        Files.writeString(tmp, content);
        Files.move(tmp, root.resolve("collector.pl"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Replaces the script as {@link #replace} does, and signs it. */
    private void publish(Path root, Path key, String content) throws Exception {
        replace(root, content);
        assertThat(WhatamiServer.commandLine().execute("sign", "--key", key.toString(),
                root.resolve("collector.pl").toString())).isZero();
    }

    private static final String IMMUTABLE_CACHE = """
              proxy_cache_path $DIR/cache levels=1:2 keys_zone=scripts:10m max_size=1g inactive=7d use_temp_path=off;
              server {
                listen 127.0.0.1:$PORT;
                location /scriptserver/ {
                  proxy_pass http://127.0.0.1:UPSTREAM;
                  proxy_cache scripts;
                  proxy_cache_revalidate on;
                  proxy_cache_lock on;
                  add_header X-Cache-Status $upstream_cache_status always;
                }
              }
            """;

    /**
     * A content-addressed URL ({@code ?sha256=}) is one version for good: the server marks it immutable, so the cache
     * asks the origin once per version however many instances fetch it; a version that is gone is a 404 no cache
     * keeps, and the version a cache kept is still the right bytes for its address.
     */
    @Test
    void contentAddressedUrls_areFetchedFromTheOriginOncePerVersion() throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        String v1 = "#!/bin/sh\necho collector v1\n";
        String v2 = "#!/bin/sh\necho collector v2\n";
        Files.writeString(root.resolve("collector.pl"), v1);
        try (ScriptServer server = ScriptServer.builder(root).bind("127.0.0.1").port(0).build().start();
                TestNginx nginx = TestNginx.startOrSkip(
                        IMMUTABLE_CACHE.replace("UPSTREAM", String.valueOf(server.address().getPort())))) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            URI origin = URI.create(server.uri() + "/scriptserver/collector.pl");
            URI cached1 = URI.create(nginx.uri() + "/scriptserver/collector.pl?sha256=" + sha256(v1));

            HttpResponse<String> direct = http.send(HttpRequest.newBuilder(URI.create(origin + "?sha256=" + sha256(v1)))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(direct.body()).isEqualTo(v1);
            assertThat(direct.headers().allValues("Cache-Control")).containsExactly("public, max-age=31536000, immutable");
            assertThat(direct.headers().firstValue("X-Accel-Expires")).isEmpty();
            HttpResponse<String> other = http.send(HttpRequest.newBuilder(URI.create(origin + "?sha256=" + sha256(v2)))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(other.statusCode()).isEqualTo(404);
            assertThat(other.headers().firstValue("Cache-Control")).hasValue("no-store");
            assertThat(other.body()).contains("(it has changed); fetch it by name").doesNotContain(v1);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(origin + "?sha256=xyz")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(400);

            int fetches = 500;
            int hits = 0;
            for (int i = 0; i < fetches; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(cached1).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.body()).isEqualTo(v1);
                hits += r.headers().firstValue("X-Cache-Status").orElse("").equals("HIT") ? 1 : 0;
            }
            assertThat(hits).isEqualTo(fetches - 1);

            // a new version: a new address, fetched from the origin once; the old one is gone there but still v1
            replace(root, v2);
            URI cached2 = URI.create(nginx.uri() + "/scriptserver/collector.pl?sha256=" + sha256(v2));
            for (int i = 0; i < 100; i++) {
                assertThat(http.send(HttpRequest.newBuilder(cached2).build(), HttpResponse.BodyHandlers.ofString())
                        .body()).isEqualTo(v2);
            }
            assertThat(http.send(HttpRequest.newBuilder(cached1).build(), HttpResponse.BodyHandlers.ofString()).body())
                    .isEqualTo(v1);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(origin + "?sha256=" + sha256(v1))).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(404);
            // what reached the origin through the cache: one request per version
            long upstream = nginx.accessLog().lines().filter(l -> l.contains("?sha256=") && !l.endsWith("upstream=-"))
                    .count();
            assertThat(upstream).as(nginx.accessLog()).isEqualTo(2);
        }
    }

    /**
     * The agent's fetcher, with a pin, asks for the content address itself: however many instances fetch one version
     * through the cache, the origin is asked once; a new version once more; a pin of a version the server no longer
     * has is refused, saying so.
     */
    @Test
    void pinnedFetches_askForTheContentAddress_soTheOriginIsAskedOncePerVersion() throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        String v1 = "#!/bin/sh\necho collector v1\n";
        String v2 = "#!/bin/sh\necho collector v2\n";
        Files.writeString(root.resolve("collector.pl"), v1);
        try (ScriptServer server = ScriptServer.builder(root).bind("127.0.0.1").port(0).build().start();
                TestNginx nginx = TestNginx.startOrSkip(
                        IMMUTABLE_CACHE.replace("UPSTREAM", String.valueOf(server.address().getPort())));
                ScriptFetcher fetcher = ScriptFetcher.builder()
                        .retryPolicy(RetryPolicy.builder().maxAttempts(1).build()).build()) {
            URI script = URI.create(nginx.uri() + "/scriptserver/collector.pl");
            Path into = Files.createDirectories(dir.resolve("task"));
            int fetches = 50;
            for (int i = 0; i < fetches; i++) {
                FetchResult r = fetcher.fetch(pinned(script, into, v1));
                assertThat(Files.readString(r.path())).isEqualTo(v1);
                assertThat(r.trust()).isEqualTo(Trust.PIN);
            }
            replace(root, v2);
            for (int i = 0; i < fetches; i++) {
                FetchResult r = fetcher.fetch(pinned(script, into, v2));
                assertThat(Files.readString(r.path())).isEqualTo(v2);
            }
            String v3 = "#!/bin/sh\necho collector v3, never published\n";
            assertThatThrownBy(() -> fetcher.fetch(pinned(script, into, v3)))
                    .isInstanceOf(IntegrityException.class)
                    .hasMessageContaining("The server does not have the version with sha256 " + sha256(v3)
                            + ": it answered HTTP 404 to its content-addressed URL");

            String log = nginx.accessLog(2 * fetches + 2); // the last line (by name) may be written after the answer
            assertThat(log.lines().filter(l -> l.startsWith("GET /scriptserver/collector.pl?sha256=")))
                    .as(log).hasSize(2 * fetches + 1);
            assertThat(log.lines().filter(l -> l.contains("?sha256=") && !l.endsWith("upstream=-")))
                    .as("what reached the origin by address: each version once, and the missing one").containsExactly(
                            "GET /scriptserver/collector.pl?sha256=" + sha256(v1) + " HTTP/1.1 200 cache=MISS upstream=200",
                            "GET /scriptserver/collector.pl?sha256=" + sha256(v2) + " HTTP/1.1 200 cache=MISS upstream=200",
                            "GET /scriptserver/collector.pl?sha256=" + sha256(v3) + " HTTP/1.1 404 cache=MISS upstream=404");
            assertThat(log.lines().filter(l -> l.startsWith("GET /scriptserver/collector.pl ")))
                    .as("by name: only after the 404").hasSize(1);
            assertThat(nginx.errorLog()).doesNotContain("[crit]", "[alert]", "[emerg]");
        }
    }

    @Test
    void aScriptReplacedOnTheServer_isWhatTheNextFetchThroughNginxGets_signed_andAStaleCopyNeverPassesTheNewPin()
            throws Exception {
        Path root = Files.createDirectories(dir.resolve("www"));
        Path keys = dir.resolve("keys");
        assertThat(WhatamiServer.commandLine().execute("keygen", "--out", keys.toString())).isZero();
        Path key = keys.resolve(SigningCommands.KEY_FILE);
        TrustedKeys trusted = TrustedKeys.of("fleet", Files.readString(keys.resolve(SigningCommands.PUB_FILE)));
        String v1 = "#!/bin/sh\necho collector v1\n";
        String v2 = "#!/bin/sh\necho collector v2\n";
        String v3 = "#!/bin/sh\necho collector v3\n";
        publish(root, key, v1);
        try (ScriptServer server = ScriptServer.builder(root).bind("127.0.0.1").port(0).build().start();
                TestNginx nginx = TestNginx.startOrSkip(
                        CACHE.replace("UPSTREAM", String.valueOf(server.address().getPort())));
                ScriptFetcher fetcher = ScriptFetcher.builder().trustedKeys(trusted)
                        .retryPolicy(RetryPolicy.builder().maxAttempts(1).build()).build()) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            URI script = URI.create(nginx.uri() + "/scriptserver/collector.pl");

            HttpResponse<String> first = http.send(HttpRequest.newBuilder(script).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(first.body()).isEqualTo(v1);
            assertThat(first.headers().firstValue("X-Cache-Status")).hasValue("MISS");
            assertThat(first.headers().firstValue("Cache-Control")).hasValue("no-cache");
            // the server's strong ETag (a digest of the bytes), passed on
            String etag = http.send(HttpRequest.newBuilder(URI.create(server.uri() + "/scriptserver/collector.pl"))
                    .build(), HttpResponse.BodyHandlers.discarding()).headers().firstValue("ETag").orElseThrow();
            assertThat(etag).startsWith("\"" + sha256(v1).substring(0, 16));
            assertThat(first.headers().firstValue("ETag")).hasValue(etag);
            assertThat(first.headers().firstValue("X-Accel-Expires")).as("nginx keeps it to itself").isEmpty();
            HttpResponse<String> again = http.send(HttpRequest.newBuilder(script).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(again.body()).isEqualTo(v1);
            assertThat(again.headers().firstValue("X-Cache-Status")).as("kept, and asked about (304)")
                    .hasValue("REVALIDATED");

            FetchResult boot1 = fetcher.fetch(pinned(script, Files.createDirectories(dir.resolve("b1")), v1));
            assertThat(Files.readString(boot1.path())).isEqualTo(v1);
            assertThat(boot1.trust()).isEqualTo(Trust.SIGNATURE);

            // the script is replaced on the server (and re-signed); the user-data's pin moves with it
            publish(root, key, v2);
            HttpResponse<String> after = http.send(HttpRequest.newBuilder(script).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(after.body()).isEqualTo(v2);
            assertThat(after.headers().firstValue("X-Cache-Status")).as("revalidated: not current, so fetched whole")
                    .hasValue("EXPIRED");
            FetchResult boot2 = fetcher.fetch(pinned(script, Files.createDirectories(dir.resolve("b2")), v2));
            assertThat(Files.readString(boot2.path())).isEqualTo(v2);
            assertThat(boot2.trust()).isEqualTo(Trust.SIGNATURE);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(script + ".sig")).build(),
                    HttpResponse.BodyHandlers.ofString()).body())
                    .isEqualTo(Files.readString(root.resolve("collector.pl.sig")));
            // an instance whose user-data still pins v1 asks for v1's content address, which the cache keeps for
            // good; but the signature beside the name is v2's now, so v1 is refused: never an unverified script
            Path b3 = Files.createDirectories(dir.resolve("b3"));
            assertThatThrownBy(() -> fetcher.fetch(pinned(script, b3, v1)))
                    .isInstanceOfSatisfying(SignatureRefusedException.class,
                            e -> assertThat(e.reason()).isEqualTo(RefusalReason.SIGNATURE_INVALID))
                    .hasMessageContaining("Its bytes are the version with sha256 " + sha256(v1) + " (asked for by its "
                            + "content address), and its signature beside its name may be another version's");
            assertThat(b3.resolve("collector.pl")).doesNotExist();

            // a cache that ignores the server: it holds v2 (and v2's signature) for an hour
            URI stale = URI.create(nginx.uri() + "/stale/collector.pl");
            assertThat(http.send(HttpRequest.newBuilder(stale).build(), HttpResponse.BodyHandlers.ofString()).body())
                    .isEqualTo(v2);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(stale + ".sig")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            publish(root, key, v3);
            HttpResponse<String> staleCopy = http.send(HttpRequest.newBuilder(stale).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(staleCopy.body()).isEqualTo(v2);
            assertThat(staleCopy.headers().firstValue("X-Cache-Status")).hasValue("HIT");
            // the stale copy is signed (by the same key): only the pin tells it is not the script meant now. An agent
            // pinning v3 asks for v3's content address, which that cache never held, and gets v3 through it; but the
            // cache's signature beside the name is still v2's: refused, never run
            Path b4 = Files.createDirectories(dir.resolve("b4"));
            assertThatThrownBy(() -> fetcher.fetch(pinned(stale, b4, v3)))
                    .isInstanceOf(SignatureRefusedException.class);
            assertThat(b4.resolve("collector.pl")).doesNotExist();
            // and where the stale copy is all it can get (the address is a 404: that version is not the server's
            // now), the pin refuses the stale copy it then gets by name
            Path b4b = Files.createDirectories(dir.resolve("b4b"));
            assertThatThrownBy(() -> fetcher.fetch(pinned(stale, b4b, v1)))
                    .isInstanceOf(IntegrityException.class)
                    .hasMessageContaining("its sha256 is " + sha256(v2) + " but the user-data pins " + sha256(v1))
                    .hasMessageContaining("The server does not have the version with sha256 " + sha256(v1));
            assertThat(b4b.resolve("collector.pl")).doesNotExist();
            // while the configured cache, asked again, has v3 at once
            FetchResult boot5 = fetcher.fetch(pinned(script, Files.createDirectories(dir.resolve("b5")), v3));
            assertThat(Files.readString(boot5.path())).isEqualTo(v3);
            assertThat(nginx.errorLog()).doesNotContain("[crit]", "[alert]", "[emerg]");
        }
    }
}
