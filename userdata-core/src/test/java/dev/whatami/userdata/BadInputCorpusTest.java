package dev.whatami.userdata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every file in src/test/resources/corpus/bad gets a clear, specific message. */
class BadInputCorpusTest {
    /** File → a part of the message it must get. Every corpus file needs an entry. */
    static final Map<String, String> EXPECTED = new TreeMap<>(Map.ofEntries(
            Map.entry("empty.txt", "user-data is empty; write one task per line"),
            Map.entry("whitespace-only.txt", "user-data is empty; write one task per line"),
            Map.entry("nul-bytes.txt", "holds a NUL byte at offset 21"),
            Map.entry("two-mib-text.txt", "the limit for the line form is 1048576 bytes (1 MiB)"),
            Map.entry("gzip-bomb.gz", "inflates past 16777216 bytes (16 MiB), the limit"),
            Map.entry("truncated.gz", "gzip-compressed user-data is truncated"),
            Map.entry("invalid-utf8.txt", "not valid UTF-8: byte offset 38 (e9)"),
            Map.entry("path-traversal.txt", "line 1, column 1: \"../../etc/passwd\" is a path; a script name is never "
                    + "a path"),
            Map.entry("bad-ipv4.txt", "line 1, column 14: \"999.1.1.1\" is not an IPv4 address"),
            Map.entry("bad-port.txt", "line 1, column 14: port \"99999\" in \"host:99999\" is out of range"),
            Map.entry("mime-no-boundary.txt", "says \"multipart/mixed\" but gives no boundary"),
            Map.entry("typographic-quote.txt", "line 1, column 14: \"\u201C\" is a typographic quote"),
            Map.entry("unknown-key.txt", "unknown key \"sha265\"; did you mean \"sha256\"?"),
            Map.entry("mime-nested-2000.gz", "the MIME user-data nests multiparts more than 10 deep"),
            Map.entry("cloud-config.txt", "this is cloud-config (it starts with #cloud-config), which cloud-init runs "
                    + "and whatami does not"),
            Map.entry("userinfo-url.txt", "line 1, column 1: the URL https://***@files.example/roles/collector.pl "
                    + "carries credentials"),
            Map.entry("file-url-with-host.txt", "line 1, column 1: the URL file://files.example/opt/roles/collector.pl "
                    + "names a host, but a file: URL names a file on this machine"),
            Map.entry("port-out-of-range-url.txt", "line 1, column 1: port 99999 in "
                    + "http://files.example:99999/roles/collector.pl is out of range"),
            Map.entry("same-name-twice.txt", "line 2, column 1: a second task named role.sh (line 1 has one)")));

    static Path corpus() {
        try {
            return Path.of(BadInputCorpusTest.class.getResource("/corpus/bad").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void everyCorpusFile_hasAnExpectation() throws IOException {
        try (Stream<Path> files = Files.list(corpus())) {
            Set<String> names = files.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
            assertThat(names).isEqualTo(EXPECTED.keySet());
        }
    }

    @Test
    void everyCorpusFile_getsItsSpecificMessage() throws IOException {
        UserDataParser parser = UserDataParser.create();
        for (Map.Entry<String, String> e : EXPECTED.entrySet()) {
            byte[] bytes = Files.readAllBytes(corpus().resolve(e.getKey()));
            try {
                parser.parse(bytes);
                fail(e.getKey() + " was accepted");
            } catch (UserDataException ex) {
                assertThat(ex.getMessage()).as(e.getKey()).contains(e.getValue()).doesNotContain("s3cr3t");
            }
        }
    }
}
