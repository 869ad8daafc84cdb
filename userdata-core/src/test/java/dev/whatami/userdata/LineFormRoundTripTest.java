package dev.whatami.userdata;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/**
 * Any plan rendered back to line form parses to an equal plan; and any builder input is either refused by the
 * builder (with a message naming the method) or renders to a line that parses to an equal task.
 */
class LineFormRoundTripTest {
    private final UserDataParser parser = UserDataParser.create();

    @Property(tries = 1000, edgeCases = EdgeCasesMode.MIXIN)
    void renderedPlans_parseToEqualPlans(@ForAll("plans") List<TaskSpec> tasks) {
        String text = tasks.stream().map(LineForm::render).collect(Collectors.joining("\n"));
        TaskPlan plan = parser.parse(text.getBytes(UTF_8));
        assertThat(plan.tasks()).isEqualTo(tasks);
        assertThat(plan.warnings()).isEmpty();
    }

    /** What a caller might hand the builder: anything, good or bad. */
    record Inputs(String name, String url, List<String> mirrors, List<String> args, Map<String, String> env,
                  int retries, long timeoutMillis, String interpreter, String report, Frequency frequency,
                  Object signature) {
    }

    @Property(tries = 3000, edgeCases = EdgeCasesMode.MIXIN)
    void builderInputs_areRefusedByTheBuilder_orRoundTrip(@ForAll("inputs") Inputs in) {
        TaskSpec spec;
        try {
            spec = build(in);
        } catch (IllegalArgumentException e) {
            Statistics.label("builder").collect("refused");
            assertThat(e.getMessage()).matches("(?s)(builder\\(name, source\\)|builder\\(name, source\\) or source\\(source\\)"
                    + "|arg\\(\\.\\.\\.\\)|env\\(.*\\)|retries\\(\\.\\.\\.\\)|timeout\\(\\.\\.\\.\\)|interpreter\\(\\.\\.\\.\\)"
                    + "|report\\(\\.\\.\\.\\)|signature\\(\\.\\.\\.\\)): .+");
            assertThat(e.getMessage()).doesNotContain("S3CRET"); // env values are never shown
            return;
        }
        Statistics.label("builder").collect("accepted");
        String line = LineForm.render(spec);
        TaskPlan plan = parser.parse(line.getBytes(UTF_8));
        assertThat(plan.tasks()).as(line).containsExactly(spec);
        assertThat(plan.warnings()).as(line).isEmpty();
        Statistics.label("builder").coverage(c -> {
            c.check("accepted").percentage(p -> p > 15);
            c.check("refused").percentage(p -> p > 15);
        });
    }

    private static TaskSpec build(Inputs in) {
        URI url = uri(in.url());
        List<URI> mirrors = in.mirrors().stream().map(LineFormRoundTripTest::uri).toList();
        TaskSpec.Builder b = TaskSpec.builder(in.name(), new TaskSource.Remote(url, mirrors));
        in.args().forEach(b::arg);
        in.env().forEach(b::env);
        b.retries(in.retries()).frequency(in.frequency());
        if (in.timeoutMillis() != 0) {
            b.timeout(Duration.ofMillis(in.timeoutMillis()));
        }
        Optional.ofNullable(in.interpreter()).ifPresent(b::interpreter);
        Optional.ofNullable(in.report()).map(LineFormRoundTripTest::uri).ifPresent(b::report);
        if (in.signature() instanceof byte[] bytes) {
            b.signature(new Signature.Inline(bytes));
        } else if (in.signature() instanceof String sigUrl) {
            b.signature(new Signature.Remote(uri(sigUrl)));
        }
        return b.build();
    }

    /** A URI, or the test input is skipped: only what java.net.URI parses can reach the builder. */
    private static URI uri(String text) {
        try {
            return new URI(text);
        } catch (URISyntaxException e) {
            Assume.that(false);
            throw new AssertionError(e);
        }
    }

    /** Mostly a good value, sometimes a bad one: so that about half the inputs get through the builder. */
    private static <T> Arbitrary<T> mostly(Arbitrary<T> good, Arbitrary<T> bad) {
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(12, good), net.jqwik.api.Tuple.of(1, bad));
    }

    @Provide
    Arbitrary<Inputs> inputs() {
        Arbitrary<String> name = mostly(names(), anyText());
        Arbitrary<String> url = mostly(Arbitraries.oneOf(seedUrls(), goodUrls()), urls());
        Arbitrary<Map<String, String>> env = Arbitraries.maps(mostly(envNames(), anyText()),
                mostly(Arbitraries.oneOf(words(), Arbitraries.of("", "S3CRET-ok")), Arbitraries.oneOf(anyText(),
                        Arbitraries.of("S3CRET-canary one", "S3CRET\tcanary2", "S3CRET-\u201Cq\u201D"))))
                .ofMaxSize(2);
        Arbitrary<Long> timeout = mostly(Arbitraries.oneOf(Arbitraries.longs().between(0, 10_000_000).map(s -> s * 1000),
                        Arbitraries.of(999_999_999_000L, 3_599_999_996_400_000L, 59_999_999_940_000L)),
                Arbitraries.oneOf(Arbitraries.longs().between(-5000, 5000), Arbitraries.of(100L, -1000L,
                        1_000_000_000_000L, 60_000_000_000_000L)));
        Arbitrary<String> interpreter = mostly(Arbitraries.of("perl", "/usr/bin/python3", "bash"),
                Arbitraries.oneOf(Arbitraries.of("perl -w", "sh;id", "", "bash\t"), anyText())).injectNull(0.6);
        Arbitrary<String> report = mostly(goodUrls().map(u -> u.replace("file:", "http:")),
                Arbitraries.oneOf(urls(), Arbitraries.of("ftp://h/r", "http://h:99999/r"))).injectNull(0.7);
        Arbitrary<List<String>> args = mostly(words(), Arbitraries.oneOf(anyText(), Arbitraries.of("", "a b", "--",
                "#x", "\u201Cq\u201D", "x\u00A0y", "tab\t"))).list().ofMaxSize(2);
        Arbitrary<Integer> retries = mostly(Arbitraries.integers().between(0, 1000),
                Arbitraries.integers().between(-10, 5000));
        Arbitrary<Object> signature = Arbitraries.oneOf(Arbitraries.bytes().array(byte[].class).ofSize(64)
                        .map(x -> (Object) x), mostly(goodUrls(), urls()).map(x -> (Object) x)).injectNull(0.5);
        return Combinators.combine(Combinators.combine(name, url, mostly(goodUrls(), urls()).list().ofMaxSize(2),
                                signature).as((n, u, m, sg) -> java.util.Arrays.asList(n, u, m, sg)),
                        args, env, retries, timeout, interpreter, report, Arbitraries.of(Frequency.values()))
                .as((first, a, e, r, t, i, rep, f) -> {
                    String n = (String) first.get(0);
                    String u = (String) first.get(1);
                    @SuppressWarnings("unchecked")
                    List<String> m = (List<String>) first.get(2);
                    // mostly, name the task after its URL, as the parser does
                    if (Math.floorMod(n.hashCode(), 8) != 0) {
                        n = lastSegment(u);
                    }
                    return new Inputs(n, u, m, a, e, r, t, i, rep, f, first.get(3));
                });
    }

    private Arbitrary<String> goodUrls() {
        Arbitrary<String> host = Arbitraries.oneOf(servers(), Arbitraries.of("h.", "Files.Example", "[fd00::1]:1"));
        Arbitrary<String> dir = Arbitraries.of("", "/roles", "/a/b", "/%20x", "/scriptserver");
        Arbitrary<String> query = Arbitraries.of("", "", "?versionId=3", "?a=b&c=d");
        Arbitrary<String> bucket = Arbitraries.of("my-roles", "roles.example.com", "a1b", "my_roles");
        Arbitrary<String> network = Combinators.combine(Arbitraries.of("http", "https", "HTTPS"), host, dir, names(),
                query).as((s, h, d, n, q) -> s + "://" + h + d + "/" + n + q);
        Arbitrary<String> file = Combinators.combine(dir, names()).as((d, n) -> "file://" + d + "/" + n);
        Arbitrary<String> buckets = Combinators.combine(Arbitraries.of("s3", "gs"), bucket, dir, names(),
                Arbitraries.of("", "", "?versionId=v1")).as((s, b, d, n, q) -> s + "://" + b + d + "/" + n + q);
        return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(4, network), net.jqwik.api.Tuple.of(1, file),
                net.jqwik.api.Tuple.of(2, buckets));
    }

    private static String lastSegment(String url) {
        try {
            String path = new URI(url).getPath();
            return path == null ? "" : path.substring(path.lastIndexOf('/') + 1);
        } catch (URISyntaxException e) {
            return "x";
        }
    }

    private Arbitrary<String> anyText() {
        return Arbitraries.strings().ofMaxLength(12);
    }

    private Arbitrary<String> envNames() {
        return Arbitraries.strings().withCharRange('A', 'Z').withChars('_', '1').ofMinLength(1).ofMaxLength(6);
    }

    private Arbitrary<String> seedUrls() {
        return Combinators.combine(servers(), names()).as((s, n) -> "http://" + s + "/scriptserver/" + n);
    }

    private Arbitrary<String> urls() {
        Arbitrary<String> scheme = Arbitraries.of("http", "https", "file", "HTTPS", "ftp", "s3");
        Arbitrary<String> userinfo = Arbitraries.of("", "", "", "u@", "u:p@");
        Arbitrary<String> host = Arbitraries.of("files.example", "10.0.0.1", "[fd00::1]", "h.", "my_host", "999.1.1.1",
                "[fe80::1%25eth0]", "", "-h");
        Arbitrary<String> port = Arbitraries.of("", "", ":8080", ":0", ":65535", ":99999", ":");
        Arbitrary<String> dir = Arbitraries.of("", "/roles", "/a/b", "/%20x", "/scriptserver");
        Arbitrary<String> file = Arbitraries.oneOf(names(), Arbitraries.of("", ".hidden", "a%20b.sh", "c%2Fd.sh",
                "caf\u00e9.sh", "x%00.sh"));
        Arbitrary<String> query = Arbitraries.of("", "", "", "?versionId=3", "?a=b&c=d");
        Arbitrary<String> fragment = Arbitraries.of("", "", "", "", "#f");
        return Combinators.combine(scheme, userinfo, host, port, dir, file, query, fragment)
                .as((s, ui, h, p, d, f, q, fr) -> s.equals("file") && ui.isEmpty() && p.isEmpty() && h.length() % 2 == 0
                        ? "file://" + d + "/" + f + q + fr
                        : s + "://" + ui + h + p + d + "/" + f + q + fr);
    }

    @Provide
    Arbitrary<List<TaskSpec>> plans() {
        return task().list().ofMinSize(1).ofMaxSize(6).uniqueElements(TaskSpec::name);
    }

    private Arbitrary<String> names() {
        Arbitrary<String> first = Arbitraries.strings().withCharRange('a', 'z').withCharRange('0', '9').ofLength(1);
        Arbitrary<String> rest = Arbitraries.strings().withCharRange('a', 'z').withCharRange('A', 'Z')
                .withCharRange('0', '9').withChars('.', '_', '-').ofMaxLength(20);
        return Combinators.combine(first, rest).as(String::concat);
    }

    private Arbitrary<String> servers() {
        Arbitrary<Integer> octet = Arbitraries.integers().between(0, 255);
        Arbitrary<String> ipv4 = Combinators.combine(octet, octet, octet, octet).as((a, b, c, d) -> a + "." + b + "."
                + c + "." + d);
        Arbitrary<String> host = Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(10).list()
                .ofMinSize(1).ofMaxSize(3).map(l -> String.join(".", l));
        Arbitrary<String> ipv6 = Arbitraries.of("[fd00::1]", "[::1]", "[2001:db8::7]");
        Arbitrary<String> hostOnly = Arbitraries.oneOf(ipv4, host, ipv6);
        Arbitrary<Integer> port = Arbitraries.integers().between(1, 65535);
        return Arbitraries.oneOf(hostOnly, Combinators.combine(hostOnly, port).as((h, p) -> h + ":" + p));
    }

    private Arbitrary<String> words() {
        return Arbitraries.strings().withCharRange('!', '~').ofMinLength(1).ofMaxLength(12);
    }

    private Arbitrary<TaskSpec> task() {
        Arbitrary<TaskSpec.Builder> base = Combinators.combine(names(), servers(), Arbitraries.of(true, false))
                .as((name, server, viaUrl) -> {
                    URI url = URI.create(viaUrl ? "https://" + server + "/roles/" + name
                            : "http://" + server + "/scriptserver/" + name);
                    return TaskSpec.builder(name, new TaskSource.Remote(url, List.of()));
                });
        Arbitrary<String> hex64 = Arbitraries.strings().withChars("0123456789abcdef".toCharArray()).ofLength(64);
        Arbitrary<List<String>> args = words().list().ofMaxSize(4);
        Arbitrary<List<String>> envValues = Arbitraries.strings().withCharRange('!', '~').ofMaxLength(8).list()
                .ofMaxSize(3);
        return Combinators.combine(base, hex64.injectNull(0.5), args, Arbitraries.of(Frequency.values()),
                        Arbitraries.integers().between(0, 5), Arbitraries.longs().between(0, 7200), envValues,
                        servers().injectNull(0.7))
                .as((b, hex, a, f, retries, timeout, env, mirror) -> {
                    if (hex != null) {
                        b.digest(new Digest(DigestAlgorithm.SHA256, hex));
                    }
                    a.forEach(b::arg);
                    b.frequency(f).retries(retries);
                    if (timeout > 0) {
                        b.timeout(Duration.ofSeconds(timeout));
                    }
                    for (int i = 0; i < env.size(); i++) {
                        b.env("V" + i, env.get(i));
                    }
                    TaskSpec t = b.build();
                    if (mirror != null) {
                        TaskSource.Remote r = (TaskSource.Remote) t.source();
                        URI m = URI.create("http://" + mirror + "/scriptserver/" + t.name());
                        t = t.toBuilder().source(new TaskSource.Remote(r.url(), List.of(m))).build();
                    }
                    return t;
                });
    }
}
