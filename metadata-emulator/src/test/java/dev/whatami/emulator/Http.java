package dev.whatami.emulator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Requests as a test writes them: the JDK's HttpClient, and raw sockets for what it hides. */
final class Http {
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private Http() {
    }

    static HttpResponse<String> send(URI base, String method, String pathAndQuery, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + pathAndQuery))
                .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(URI base, String pathAndQuery, String... headers)
            throws IOException, InterruptedException {
        return send(base, "GET", pathAndQuery, headers);
    }

    /** Sends a raw request and reads what comes back until the connection ends, a limit, or a timeout. */
    static Raw raw(MetadataEmulator e, String request, int limit, Duration timeout) throws IOException {
        try (Socket s = new Socket("127.0.0.1", e.port())) {
            s.setSoTimeout((int) timeout.toMillis());
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            String ending = "eof";
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    got.write(buf, 0, n);
                    if (got.size() >= limit) {
                        ending = "limit";
                        break;
                    }
                }
            } catch (java.net.SocketTimeoutException t) {
                ending = "timeout";
            } catch (java.net.SocketException reset) {
                ending = "reset";
            }
            return new Raw(got.toString(StandardCharsets.ISO_8859_1), ending);
        }
    }

    record Raw(String text, String ending) {
    }
}
