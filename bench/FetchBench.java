import dev.whatami.fetch.FetchRequest;
import dev.whatami.fetch.FetchResult;
import dev.whatami.fetch.ScriptFetcher;
import dev.whatami.userdata.Digest;
import dev.whatami.userdata.DigestAlgorithm;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One download with the shipped ScriptFetcher, sha256 pinned: java -cp whatami-agent.jar FetchBench.java URL DIR SHA256
 * Prints "bytes seconds MB/s".
 */
public class FetchBench {
    public static void main(String[] args) throws Exception {
        URI url = URI.create(args[0]);
        Path dir = Path.of(args[1]);
        Digest pin = new Digest(DigestAlgorithm.SHA256, args[2]);
        try (ScriptFetcher f = ScriptFetcher.builder().build()) {
            long start = System.nanoTime();
            FetchResult r = f.fetch(FetchRequest.builder(url, dir, "big.bin").digest(Optional.of(pin))
                    .maxBytes(2L << 30).build());
            double s = (System.nanoTime() - start) / 1e9;
            System.out.printf("%d %.3f %.1f%n", r.size(), s, r.size() / s / 1e6);
        }
    }
}
