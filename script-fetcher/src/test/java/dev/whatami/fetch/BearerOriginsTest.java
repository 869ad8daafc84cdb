package dev.whatami.fetch;

import dev.whatami.metadata.AccessToken;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import dev.whatami.status.Trust;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gs://} and Azure blob URLs against fakes of their documented request shapes on loopback: the JSON API's
 * {@code /storage/v1/b/<bucket>/o/<object>?alt=media} with a bearer token, and the Blob service's
 * {@code GET /<container>/<blob>} with a bearer token and {@code x-ms-version} (or a SAS and no token).
 */
class BearerOriginsTest {
    private static final byte[] SCRIPT = "#!/bin/sh\necho from a cloud bucket\n".getBytes(UTF_8);
    private static final String TOKEN = "ya29.whatami-test-token";

    @TempDir
    Path dir;
    private final FileServer fake = new FileServer();
    private final List<String> seen = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        fake.close();
    }

    private static CloudCredentials<AccessToken> token() {
        return CloudCredentials.fixed(new AccessToken(TOKEN, Instant.now().plusSeconds(3000)));
    }

    /** Cloud Storage: the object's media for the right token, its JSON error otherwise. */
    private void gcs(String object, byte[] body) {
        // the fake routes by decoded path; what was sent on the wire is recorded raw
        fake.always("/storage/v1/b/roles/o/" + object.replace("%2F", "/"), ex -> {
            seen.add(ex.getRequestURI().getRawPath() + "?" + ex.getRequestURI().getRawQuery() + " "
                    + ex.getRequestHeaders().getFirst("Authorization"));
            if (!"alt=media".equals(ex.getRequestURI().getRawQuery())) {
                FileServer.respond(ex, 400, new byte[0], Map.of());
            } else if (!("Bearer " + TOKEN).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                FileServer.respond(ex, 401, ("{\"error\": {\"code\": 401, \"message\": \"Anonymous caller does not "
                        + "have storage.objects.get access to the Google Cloud Storage object.\"}}").getBytes(UTF_8),
                        Map.of("Content-Type", "application/json"));
            } else {
                FileServer.respond(ex, 200, body, Map.of("ETag", "\"CJ+0vfmT\""));
            }
        });
    }

    @Test
    void gs_isFetchedThroughTheJsonApi_withTheServiceAccountsToken() throws Exception {
        gcs("dir%2Fc.sh", SCRIPT);
        Keys owner = new Keys();
        gcs("dir%2Fc.sh.sig", owner.signBase64(SCRIPT));
        try (ScriptFetcher f = ScriptFetcher.builder().gcs(() -> GcsAccess.of(token()).withEndpoint(fake.url("/")))
                .trustedKeys(TrustedKeys.of("owner.pub", owner.publicPem())).build()) {
            FetchResult r = f.fetch(FetchRequest.builder(URI.create("gs://roles/dir/c.sh"), dir, "c.sh").build());
            assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
            assertThat(r.trust()).isEqualTo(Trust.SIGNATURE);
        }
        assertThat(seen).containsExactly("/storage/v1/b/roles/o/dir%2Fc.sh?alt=media Bearer " + TOKEN,
                "/storage/v1/b/roles/o/dir%2Fc.sh.sig?alt=media Bearer " + TOKEN);
    }

    @Test
    void gs_withoutAServiceAccount_goesAnonymous_andSaysWhatStorageSaid() {
        gcs("c.sh", SCRIPT);
        try (ScriptFetcher f = ScriptFetcher.builder()
                .gcs(() -> GcsAccess.of(CloudCredentials.anonymous()).withEndpoint(fake.url("/"))).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(URI.create("gs://roles/c.sh"), dir, "c.sh").build()))
                    .isInstanceOfSatisfying(FetchException.class,
                            e -> assertThat(e.failure()).isEqualTo(FetchFailure.CLIENT_ERROR))
                    .hasMessageContaining("gs://roles/c.sh (HTTP 401 Unauthorized (Cloud Storage says: Anonymous "
                            + "caller does not have storage.objects.get access");
        }
        assertThat(seen).containsExactly("/storage/v1/b/roles/o/c.sh?alt=media null");
    }

    /** The Blob service: bearer token, x-ms-version and x-ms-date; with a SAS, no token. */
    private void blob(String path, byte[] body) {
        fake.always(path, ex -> {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            seen.add(ex.getRequestURI().getRawPath() + (ex.getRequestURI().getRawQuery() == null ? "" : "?SAS") + " "
                    + (auth == null ? "-" : auth) + " " + ex.getRequestHeaders().getFirst("x-ms-version"));
            boolean sas = ex.getRequestURI().getRawQuery() != null && ex.getRequestURI().getRawQuery().contains("sig=");
            if (ex.getRequestHeaders().getFirst("x-ms-version") == null
                    || ex.getRequestHeaders().getFirst("x-ms-date") == null) {
                azureError(ex, 400, "MissingRequiredHeader");
            } else if (!sas && !("Bearer " + TOKEN).equals(auth)) {
                azureError(ex, 404, "ResourceNotFound"); // what Azure answers an anonymous read of a private blob
            } else {
                FileServer.respond(ex, 200, body, Map.of("ETag", "\"0x8DC\""));
            }
        });
    }

    private static void azureError(HttpExchange ex, int status, String code) {
        FileServer.respond(ex, status, ("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>" + code + "</Code>"
                + "<Message>The specified resource does not exist.\nRequestId:1</Message></Error>").getBytes(UTF_8),
                Map.of("x-ms-error-code", code));
    }

    @Test
    void anAzureBlob_isFetchedWithTheManagedIdentitysToken() throws Exception {
        blob("/acct/roles/c.sh", SCRIPT);
        try (ScriptFetcher f = ScriptFetcher.builder()
                .azureBlob(() -> AzureBlobAccess.of(token()).withEndpoint(fake.url("/"))).build()) {
            FetchResult r = f.fetch(FetchRequest.builder(URI.create("https://acct.blob.core.windows.net/roles/c.sh"),
                    dir, "c.sh").build());
            assertThat(Files.readAllBytes(r.path())).isEqualTo(SCRIPT);
        }
        assertThat(seen).containsExactly("/acct/roles/c.sh Bearer " + TOKEN + " " + AzureBlobAccess.API_VERSION);
    }

    @Test
    void anAzureBlobWithASas_goesWithoutTheToken_andItsSignatureComesFromSig() throws Exception {
        blob("/acct/roles/c.sh", SCRIPT);
        Keys owner = new Keys();
        URI sas = URI.create("https://acct.blob.core.windows.net/roles/c.sh?sv=2023-11-03&sr=b&sig=c2VjcmV0");
        try (ScriptFetcher f = ScriptFetcher.builder()
                .azureBlob(() -> AzureBlobAccess.of(token()).withEndpoint(fake.url("/")))
                .trustedKeys(TrustedKeys.of("owner.pub", owner.publicPem())).build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(sas, dir, "c.sh").build()))
                    .isInstanceOfSatisfying(SignatureRefusedException.class,
                            e -> assertThat(e.reason()).isEqualTo(RefusalReason.SIGNATURE_MISSING))
                    .hasMessageContaining("give the signature in the user-data with sig=<base64> or sig=<url>")
                    .hasMessageNotContaining("c2VjcmV0");
            FetchResult r = f.fetch(FetchRequest.builder(sas, dir, "c.sh")
                    .signature(new SignatureSource.Inline(owner.sign(SCRIPT))).build());
            assertThat(r.trust()).isEqualTo(Trust.SIGNATURE);
        }
        assertThat(seen).containsExactly("/acct/roles/c.sh?SAS - " + AzureBlobAccess.API_VERSION);
    }

    @Test
    void anAzureBlob_withoutAnIdentity_goesAnonymous_andSaysWhatAzureSaid() {
        blob("/acct/roles/c.sh", SCRIPT);
        try (ScriptFetcher f = ScriptFetcher.builder()
                .azureBlob(() -> AzureBlobAccess.of(CloudCredentials.anonymous()).withEndpoint(fake.url("/")))
                .build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(
                    URI.create("https://acct.blob.core.windows.net/roles/c.sh"), dir, "c.sh").build()))
                    .isInstanceOfSatisfying(FetchException.class,
                            e -> assertThat(e.failure()).isEqualTo(FetchFailure.NOT_FOUND))
                    .hasMessageContaining("(HTTP 404 Not Found (Azure says ResourceNotFound: The specified resource "
                            + "does not exist.))");
        }
    }

    @Test
    void tokensNeverAppearInMessages() {
        fake.always("/storage/v1/b/roles/o/c.sh", ex -> FileServer.respond(ex, 403, ("{\"error\": {\"message\": "
                + "\"denied\"}}").getBytes(UTF_8), Map.of()));
        try (ScriptFetcher f = ScriptFetcher.builder().gcs(() -> GcsAccess.of(token()).withEndpoint(fake.url("/")))
                .build()) {
            assertThatThrownBy(() -> f.fetch(FetchRequest.builder(URI.create("gs://roles/c.sh"), dir, "c.sh").build()))
                    .hasMessageNotContaining(TOKEN).hasMessageContaining("Cloud Storage says: denied");
        }
        assertThat(token().get().orElseThrow().toString()).doesNotContain(TOKEN);
    }
}
