package dev.whatami.fetch.internal;

import java.net.URI;
import org.apache.hc.client5.http.impl.DefaultRedirectStrategy;
import org.apache.hc.core5.http.HttpException;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.ProtocolException;
import org.apache.hc.core5.http.protocol.HttpContext;

/** HttpClient's redirect handling, minus redirects from https to http or to anything but http(s). */
final class NoDowngradeRedirects extends DefaultRedirectStrategy {
    @Override
    public URI getLocationURI(HttpRequest request, HttpResponse response, HttpContext context) throws HttpException {
        URI location = super.getLocationURI(request, response, context);
        String to = location.getScheme() == null ? "" : location.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!to.equals("http") && !to.equals("https")) {
            throw new ProtocolException("refusing a redirect to " + location + ": only http and https are followed");
        }
        if ("https".equalsIgnoreCase(request.getScheme()) && to.equals("http")) {
            throw new ProtocolException("refusing a redirect from https to plain http (" + location + ")");
        }
        return location;
    }
}
