import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.classic.methods.HttpPut;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;

/**
 * The floor for bench/boot-latency.sh (the calibration prototypes, rebuilt): the boot flow and nothing
 * else — IMDSv2 token, user-data, fetch the script it names, run it with sh — no CLI, config, logging, JSON,
 * ledger, status, verification or retries. {@code hc5}: Apache HttpClient 5 with TLS never initialised;
 * {@code url}: the JDK's HttpURLConnection. Usage: BootFloor hc5|url http://127.0.0.1:PORT
 */
public final class BootFloor {
    public static void main(String[] args) throws Exception {
        String base = args[1];
        String script;
        if (args[0].equals("hc5")) {
            try (CloseableHttpClient http = HttpClients.custom()
                    .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                            .setTlsSocketStrategy((socket, target, port, attachment, context) -> {
                                throw new IOException("plain http only");
                            }).build())
                    .disableCookieManagement().setDefaultCookieSpecRegistry(name -> null).build()) {
                HttpPut put = new HttpPut(base + "/latest/api/token");
                put.addHeader("X-aws-ec2-metadata-token-ttl-seconds", "60");
                String token = http.execute(put, r -> text(r.getEntity().getContent()));
                HttpGet get = new HttpGet(base + "/latest/user-data");
                get.addHeader("X-aws-ec2-metadata-token", token);
                String[] line = http.execute(get, r -> text(r.getEntity().getContent())).trim().split(" ");
                script = http.execute(new HttpGet("http://" + line[1] + "/scriptserver/" + line[0]),
                        r -> text(r.getEntity().getContent()));
            }
        } else {
            HttpURLConnection put = (HttpURLConnection) new URL(base + "/latest/api/token").openConnection();
            put.setRequestMethod("PUT");
            put.setRequestProperty("X-aws-ec2-metadata-token-ttl-seconds", "60");
            String token = text(put.getInputStream());
            HttpURLConnection get = (HttpURLConnection) new URL(base + "/latest/user-data").openConnection();
            get.setRequestProperty("X-aws-ec2-metadata-token", token);
            String[] line = text(get.getInputStream()).trim().split(" ");
            script = text(new URL("http://" + line[1] + "/scriptserver/" + line[0]).openStream());
        }
        Path file = Files.createTempFile("boot-floor", ".sh");
        Files.writeString(file, script);
        int exit = new ProcessBuilder("/bin/sh", file.toString()).inheritIO().start().waitFor();
        Files.delete(file);
        System.exit(exit);
    }

    private static String text(InputStream in) throws IOException {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
