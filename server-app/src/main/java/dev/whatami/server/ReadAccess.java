package dev.whatami.server;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Who may read {@code /status}, {@code /status.json} and {@code /metrics} (instance ids, addresses, output tails):
 * with a read token, whoever presents it (Bearer, or the password of Basic for a browser); without one, clients on
 * loopback only, unless the status is public.
 */
final class ReadAccess {
    private final Optional<BearerToken> token;
    private final boolean publicStatus;

    ReadAccess(Optional<String> token, boolean publicStatus) {
        this.token = token.map(BearerToken::bearerOrBasic);
        this.publicStatus = publicStatus;
    }

    /** Whether these paths are guarded here. */
    static boolean guards(String route) {
        return route.equals("status") || route.equals("metrics");
    }

    boolean allows(Request request) {
        if (token.isPresent()) {
            return token.get().presentIn(request);
        }
        return publicStatus || fromLoopback(request.getConnectionMetaData().getRemoteSocketAddress())
                && !forwarded(request);
    }

    /**
     * Whether a proxy says it forwarded the request for someone else: then loopback is the proxy's address, not the
     * reader's. (A proxy on this machine that says nothing makes its clients look local: give it a read token.)
     */
    static boolean forwarded(Request request) {
        org.eclipse.jetty.http.HttpFields h = request.getHeaders();
        return h.contains(HttpHeader.X_FORWARDED_FOR) || h.contains(HttpHeader.FORWARDED) || h.contains("X-Real-IP");
    }

    static boolean fromLoopback(SocketAddress remote) {
        if (!(remote instanceof InetSocketAddress inet)) {
            return remote != null; // a Unix socket: as local as loopback
        }
        InetAddress address = inet.getAddress();
        return address != null && address.isLoopbackAddress();
    }

    /** Answers a request {@link #allows} refused: 401 asking for the token, or 403 saying how to open the page. */
    void refuse(Response response, Callback callback) {
        String text;
        if (token.isPresent()) {
            response.setStatus(401);
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Basic realm=\"whatami status\", charset=\"UTF-8\"");
            text = "a valid read token is required (Authorization: Bearer <token>, or a browser's password prompt)\n";
        } else {
            response.setStatus(403);
            text = "the status and metrics are readable from this machine only; start the server with "
                    + "--read-token-file FILE to let others read them with that token (or --public-status)\n";
        }
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.write(true, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), callback);
    }
}
