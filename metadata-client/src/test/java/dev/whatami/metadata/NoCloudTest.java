package dev.whatami.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NoCloudTest {
    @TempDir
    Path dir;

    @Test
    void directory_givesUserDataAndInstanceIdFromMetaData() throws Exception {
        Files.writeString(dir.resolve("user-data"), "collector.pl 10.0.0.1");
        Files.writeString(dir.resolve("meta-data"), "instance-id: iid-abc123\nlocal-hostname: box\n");
        try (MetadataClient c = MetadataClient.builder().provider(Provider.NOCLOUD).noCloudSource(dir).build()) {
            assertThat(new String(c.userData().orElseThrow(), StandardCharsets.UTF_8)).isEqualTo("collector.pl 10.0.0.1");
            assertThat(c.identity().instanceId()).isEqualTo("iid-abc123");
            assertThat(c.identity().provider()).isEqualTo(Provider.NOCLOUD);
        }
    }

    @Test
    void missingUserData_isEmpty_andIdDefaults() {
        try (MetadataClient c = MetadataClient.builder().provider(Provider.NOCLOUD).noCloudSource(dir).build()) {
            assertThat(c.userData()).isEmpty();
            assertThat(c.identity().instanceId()).isEqualTo("iid-local");
        }
    }
}
