package dev.whatami.userdata;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Any plan rendered back to line form parses to an equal plan. */
class LineFormRoundTripTest {
    private final UserDataParser parser = UserDataParser.create();

    @Property(tries = 1000, edgeCases = EdgeCasesMode.MIXIN)
    void renderedPlans_parseToEqualPlans(@ForAll("plans") List<TaskSpec> tasks) {
        String text = tasks.stream().map(LineForm::render).collect(Collectors.joining("\n"));
        TaskPlan plan = parser.parse(text.getBytes(UTF_8));
        assertThat(plan.tasks()).isEqualTo(tasks);
        assertThat(plan.warnings()).isEmpty();
    }

    @Provide
    Arbitrary<List<TaskSpec>> plans() {
        return task().list().ofMinSize(1).ofMaxSize(6);
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
                    if (viaUrl) {
                        URI url = URI.create("https://" + server + "/roles/" + name);
                        return TaskSpec.builder(name, new TaskSource.Remote(url, List.of())).server(server);
                    }
                    URI url = URI.create("http://" + server + "/scriptserver/" + name);
                    return TaskSpec.builder(name, new TaskSource.Remote(url, List.of())).server(server);
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
