package dev.whatami.boot.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InstanceKeyTest {
    @TempDir
    Path dir;

    @Test
    void madeOnce_keptPrivate_reusedAfter_andADamagedOneIsNotReplaced() throws Exception {
        Path file = dir.resolve("state").resolve("report-key");
        String key = InstanceKey.loadOrCreate(file, new SecureRandom()).orElseThrow();
        assertThat(InstanceKey.valid(key)).isTrue();
        assertThat(key).hasSize(43);
        assertThat(InstanceKey.loadOrCreate(file, new SecureRandom())).hasValue(key);
        assertThat(InstanceKey.loadOrCreate(dir.resolve("other"), new SecureRandom())).get().isNotEqualTo(key);

        // replacing a damaged key would lock the instance out of its own report: it is left for a person to see
        Files.writeString(file, "not a key!");
        assertThat(InstanceKey.loadOrCreate(file, new SecureRandom())).isEmpty();
        assertThat(Files.readString(file)).isEqualTo("not a key!");
    }
}
