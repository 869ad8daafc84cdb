package dev.whatami.fetch.internal;

import dev.whatami.fetch.AzureBlobAccess;
import dev.whatami.metadata.AccessToken;
import dev.whatami.fetch.CloudCredentials;
import dev.whatami.fetch.FetchFailure;
import dev.whatami.fetch.GcsAccess;
import dev.whatami.fetch.internal.cloud.SigV4;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Cloud origins authorized by an OAuth bearer token: Cloud Storage ({@code gs://}) and Azure blobs. */
final class BearerOrigins {
    private static final Pattern XML_CODE = Pattern.compile("<Code>([^<]{1,100})</Code>");
    private static final Pattern XML_MESSAGE = Pattern.compile("<Message>([^<]{1,300})</Message>");
    private static final Pattern JSON_MESSAGE = Pattern.compile("\"message\"\\s*:\\s*\"([^\"]{1,300})\"");

    private BearerOrigins() {
    }

    static Map<String, String> bearer(CloudCredentials<AccessToken> credentials, URI hop) throws AttemptFailed {
        Optional<AccessToken> token;
        try {
            token = credentials.get();
        } catch (RuntimeException e) {
            throw new AttemptFailed(FetchFailure.UNREACHABLE, "no access token: " + Failures.describe(e, hop), e);
        }
        return token.map(t -> Map.of("Authorization", "Bearer " + t.value())).orElse(Map.of());
    }

    static String body(Exchange.Response r) {
        try {
            return new String(r.body().readNBytes(8192), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** {@code gs://bucket/object} through the JSON API. */
    static final class Gcs implements Origin {
        private final GcsAccess access;

        Gcs(GcsAccess access) {
            this.access = access;
        }

        @Override
        public URI requestUrl(URI url) throws AttemptFailed {
            String bucket = url.getHost();
            String object = url.getRawPath() == null || url.getRawPath().length() <= 1 ? ""
                    : SigV4.decode(url.getRawPath().substring(1));
            if (bucket == null || object.isEmpty()) {
                throw new AttemptFailed(FetchFailure.CLIENT_ERROR, "a gs:// URL names an object: gs://bucket/path/to/"
                        + "script", null);
            }
            String base = access.endpoint().toString().replaceAll("/+$", "");
            return URI.create(base + "/storage/v1/b/" + SigV4.encode(bucket, true) + "/o/" + SigV4.encode(object, true)
                    + "?alt=media");
        }

        @Override
        public Map<String, String> authorize(URI hop) throws AttemptFailed {
            return bearer(access.credentials(), hop);
        }

        @Override
        public Optional<String> explain(Exchange.Response r) {
            Matcher m = JSON_MESSAGE.matcher(body(r));
            return m.find() ? Optional.of("Cloud Storage says: " + m.group(1)) : Optional.empty();
        }
    }

    /** Azure blob URLs, with the managed identity's token unless the URL carries a SAS. */
    static final class Azure implements Origin {
        private static final DateTimeFormatter RFC_1123 = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);
        private final AzureBlobAccess access;
        private final Clock clock;

        Azure(AzureBlobAccess access, Clock clock) {
            this.access = access;
            this.clock = clock;
        }

        @Override
        public URI requestUrl(URI url) {
            if (access.endpoint().isEmpty()) {
                return url;
            }
            String account = url.getHost().substring(0, url.getHost().indexOf('.'));
            String base = access.endpoint().get().toString().replaceAll("/+$", "");
            return URI.create(base + "/" + account + url.getRawPath() + (url.getRawQuery() == null ? ""
                    : "?" + url.getRawQuery()));
        }

        @Override
        public Map<String, String> authorize(URI hop) throws AttemptFailed {
            Map<String, String> h = new LinkedHashMap<>();
            h.put("x-ms-version", AzureBlobAccess.API_VERSION);
            h.put("x-ms-date", RFC_1123.format(clock.instant()));
            if (hop.getRawQuery() == null) { // a SAS authorizes by itself; a token beside it would be refused
                h.putAll(bearer(access.credentials(), hop));
            }
            return h;
        }

        @Override
        public Optional<String> explain(Exchange.Response r) {
            String text = body(r);
            Matcher code = XML_CODE.matcher(text);
            if (!code.find()) {
                return r.header("x-ms-error-code").map(c -> "Azure says " + c);
            }
            Matcher message = XML_MESSAGE.matcher(text);
            String m = message.find() ? ": " + message.group(1).lines().findFirst().orElse("") : "";
            return Optional.of("Azure says " + code.group(1) + m);
        }
    }
}
