package dev.whatami.fetch.internal;

import java.net.URI;
import java.util.Map;
import java.util.Optional;

/**
 * Where a URL's bytes are asked for and how each request is authorized: plain http(s) as it is, or a cloud origin
 * ({@code s3://}, {@code gs://}, Azure blobs) that maps the URL onto its HTTP API and signs or authorizes every
 * request. Cloud origins are loaded only when a URL needs one, so a plain-http boot loads none of their classes.
 */
interface Origin {
    /** The http(s) URL to GET for {@code url}. */
    URI requestUrl(URI url) throws AttemptFailed;

    /**
     * Headers that authorize a GET of {@code hop} (the request URL, or a redirect's target on the same origin); none
     * for plain http(s).
     */
    Map<String, String> authorize(URI hop) throws AttemptFailed;

    /**
     * Called with an answer that is neither a success nor a redirect followed: true when the request should be sent
     * once more because the origin learned something (a bucket's own region).
     */
    default boolean retryOnce(Exchange.Response r) {
        return false;
    }

    /** A short, secret-free explanation of an error answer, e.g. S3's error code and message. */
    default Optional<String> explain(Exchange.Response r) {
        return Optional.empty();
    }

    /**
     * Whether a signature URL can be derived for {@code url} when none is given: not for a URL with a query string
     * (a presigned URL or SAS does not cover a {@code .sig} beside it).
     */
    default boolean derivesSignature(URI url) {
        return url.getRawQuery() == null;
    }

    /** The URL the signature lives at when none is given: beside the script. */
    default URI derivedSignature(URI url) {
        return URI.create(url + ".sig");
    }

    /** Plain http(s) and file URLs. */
    Origin PLAIN = new Origin() {
        @Override
        public URI requestUrl(URI url) {
            return url;
        }

        @Override
        public Map<String, String> authorize(URI hop) {
            return Map.of();
        }
    };
}
