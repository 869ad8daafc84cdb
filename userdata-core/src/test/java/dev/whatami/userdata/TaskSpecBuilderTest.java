package dev.whatami.userdata;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The builder refuses what the line form cannot say, naming the method and the fix. */
class TaskSpecBuilderTest {
    private static final URI SEED = URI.create("http://192.168.7.77/scriptserver/collector.pl");

    private static TaskSpec.Builder seed() {
        return TaskSpec.builder("collector.pl", new TaskSource.Remote(SEED, List.of()));
    }

    private static TaskSpec parseOne(String line) {
        return UserDataParser.create().parse(line.getBytes(UTF_8)).tasks().get(0);
    }

    @Test
    void interpreterWithOptions_isRefused() {
        assertThatThrownBy(() -> seed().interpreter("perl -w")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("interpreter(...): interpreter \"perl -w\" must be a program name or absolute path, e.g. "
                        + "as=perl or as=/usr/bin/python3; options for it go in the script's #! line.");
    }

    @Test
    void subSecondTimeout_isRefused_wholeSecondsRenderInTheLargestUnit() {
        assertThatThrownBy(() -> seed().timeout(Duration.ofMillis(100)))
                .hasMessage("timeout(...): a timeout is a positive whole number of seconds, got 0.1s; e.g. "
                        + "Duration.ofSeconds(90) (timeout=90s)");
        assertThatThrownBy(() -> seed().timeout(Duration.ZERO)).hasMessageStartingWith("timeout(...): a timeout is a "
                + "positive whole number of seconds, got 0s");
        assertThatThrownBy(() -> seed().timeout(Duration.ofSeconds(-5))).hasMessageContaining("got -5s");
        assertThatThrownBy(() -> seed().timeout(Duration.ofHours(1_000_000_000L)))
                .hasMessage("timeout(...): a timeout of 3600000000000 s has no line form (at most 999999999 seconds, "
                        + "minutes or hours); use fewer, e.g. Duration.ofHours(2)");

        assertThat(LineForm.render(seed().timeout(Duration.ofSeconds(7200)).build()))
                .isEqualTo("collector.pl 192.168.7.77 timeout=2h");
        assertThat(LineForm.render(seed().timeout(Duration.ofSeconds(90)).build()))
                .isEqualTo("collector.pl 192.168.7.77 timeout=90s");
        TaskSpec longest = seed().timeout(Duration.ofHours(999_999_999L)).build();
        assertThat(LineForm.render(longest)).endsWith(" timeout=999999999h");
        assertThat(parseOne(LineForm.render(longest))).isEqualTo(longest);
    }

    @Test
    void nameWithASpace_orNotTheUrlsFileName_isRefused() {
        URI url = URI.create("https://files.example/roles/collector.pl");
        assertThatThrownBy(() -> TaskSpec.builder("my role.sh", new TaskSource.Remote(url, List.of())).build())
                .hasMessage("builder(name, source): script name \"my role.sh\" may hold only letters, digits, '.', '_' "
                        + "and '-', starting with a letter or digit; rename the script, e.g. collector.pl.");
        assertThatThrownBy(() -> TaskSpec.builder("role.sh", new TaskSource.Remote(url, List.of())).build())
                .hasMessage("builder(name, source): the name \"role.sh\" is not the file name at the end of the "
                        + "script's URL (\"collector.pl\"); the agent and the line form take the name from the URL, so "
                        + "name the task collector.pl");
    }

    @Test
    void retriesOutsideTheGrammar_areRefused() {
        assertThatThrownBy(() -> seed().retries(5000)).hasMessage("retries(...): retries must be a whole number "
                + "0-1000, got 5000; e.g. retries=3.");
        assertThatThrownBy(() -> seed().retries(-1)).hasMessageContaining("got -1");
        assertThat(seed().retries(1000).build().retries()).isEqualTo(1000);
    }

    @Test
    void badEnvNames_andValuesWithoutALineForm_areRefused_withoutShowingTheValue() {
        assertThatThrownBy(() -> seed().env("1X", "v")).hasMessage("env(name, value): environment variable name "
                + "\"1X\" must be letters, digits and '_', not starting with a digit; e.g. env.ROLE=collector.");
        assertThatThrownBy(() -> seed().env("A-B", "v")).hasMessageStartingWith("env(name, value): environment "
                + "variable name \"A-B\"");
        assertThatThrownBy(() -> seed().env("TOKEN", "hunter2 x"))
                .hasMessage("env(\"TOKEN\", value): the value: it holds U+0020 (a space), and the line form separates "
                        + "words with spaces and holds no control characters; there is no quoting. Give a value "
                        + "without them (e.g. base64 it), or put it in the script.")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"));
        assertThatThrownBy(() -> seed().env("TOKEN", "line1\nline2")).hasMessageContaining("U+000A (a control "
                + "character)");
        assertThatThrownBy(() -> seed().env("TOKEN", "\u201Cx\u201D")).hasMessageContaining("the typographic quote "
                + "\u201C");
        assertThat(seed().env("EMPTY", "").build().env()).containsEntry("EMPTY", "");
    }

    @Test
    void argsWithoutALineForm_areRefused() {
        assertThatThrownBy(() -> seed().arg("ok").arg("two words"))
                .hasMessage("arg(...): argument 2: it holds U+0020 (a space), and the line form separates words with "
                        + "spaces and holds no control characters; there is no quoting. Give each argument as one "
                        + "word.");
        assertThatThrownBy(() -> seed().arg("")).hasMessage("arg(...): argument 1: it is empty, and the line form has "
                + "no empty words. Give each argument as one word.");
        assertThatThrownBy(() -> seed().arg("a\u00A0b")).hasMessageContaining("U+00A0 (a no-break space)");
        TaskSpec odd = seed().arg("--").arg("#not-a-comment").arg("x=y").build();
        assertThat(parseOne(LineForm.render(odd))).isEqualTo(odd);
    }

    @Test
    void urlsTheAgentCouldNotUse_areRefused() {
        assertThatThrownBy(() -> TaskSpec.builder("c.pl", new TaskSource.Remote(URI.create("ftp://h/c.pl"),
                List.of())).build()).hasMessage("builder(name, source) or source(source): the script's URL: unsupported "
                + "URL scheme \"ftp\" in ftp://h/c.pl; use one of file, gs, http, https, s3.");
        assertThatThrownBy(() -> TaskSpec.builder("collector.pl", new TaskSource.Remote(SEED,
                List.of(URI.create("http://my_host/c.pl")))).build())
                .hasMessageStartingWith("builder(name, source) or source(source): a mirror: the URL http://my_host/c.pl "
                        + "has no host java.net.URI can read");
        assertThatThrownBy(() -> seed().report(URI.create("file:///tmp/r"))).hasMessageStartingWith("report(...): "
                + "unsupported URL scheme \"file\"");
    }

    @Test
    void server_isTakenFromTheUrl() {
        assertThat(seed().build().server()).contains("192.168.7.77");
        TaskSpec https = TaskSpec.builder("c.sh", new TaskSource.Remote(URI.create("https://[fd00::1]:8443/r/c.sh"),
                List.of())).build();
        assertThat(https.server()).contains("[fd00::1]:8443");
        assertThat(TaskSpec.builder("c.sh", new TaskSource.Remote(URI.create("file:///opt/c.sh"), List.of())).build()
                .server()).isEmpty();
        assertThat(TaskSpec.builder("c.sh", new TaskSource.Inline("#!/bin/sh\n".getBytes(UTF_8))).build().server())
                .isEmpty();
        assertThatThrownBy(() -> new TaskSpec("collector.pl", new TaskSource.Remote(SEED, List.of()),
                java.util.Optional.empty(), List.of(), java.util.Map.of(), Frequency.ALWAYS, 0,
                java.util.Optional.empty(), java.util.Optional.empty(), java.util.Optional.empty(),
                java.util.Optional.of("10.0.0.9"), java.util.Optional.empty()))
                .hasMessage("server: 10.0.0.9 is not the script URL's host[:port] 192.168.7.77; the builder takes it "
                        + "from the source, give none");
    }

    @Test
    void seedFormIsUsedOnlyWhenTheServerWordParses() {
        TaskSpec odd = TaskSpec.builder("c.sh", new TaskSource.Remote(URI.create("http://h./scriptserver/c.sh"),
                List.of())).build();
        assertThat(LineForm.render(odd)).isEqualTo("http://h./scriptserver/c.sh");
        assertThat(parseOne(LineForm.render(odd))).isEqualTo(odd);
    }
}
