package dev.whatami.run.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CappedOutputStreamTest {
    @Test
    void aFullDisk_neverMakesWritesThrow_soThePumpKeepsDrainingTheScript() throws IOException {
        if (!Files.isWritable(Path.of("/dev/full"))) {
            System.err.println("SKIPPED: no /dev/full on this machine");
            return;
        }
        CappedOutputStream capped = new CappedOutputStream(new FileOutputStream("/dev/full"), 1 << 20);
        byte[] chunk = new byte[8192];
        for (int i = 0; i < 100; i++) {
            capped.write(chunk, 0, chunk.length); // ENOSPC underneath: swallowed and counted
        }
        capped.flush();
        assertThat(capped.failure()).isNotNull();
        assertThat(capped.failure().getMessage()).contains("No space left on device");
        capped.close();
    }

    @Test
    void afterAFailure_theRestIsDroppedAndNotedAtClose() throws IOException {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        OutputStream failingOnce = new OutputStream() {
            private boolean failed;

            @Override
            public void write(int b) {
                sink.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (!failed) {
                    failed = true;
                    throw new IOException("No space left on device");
                }
                sink.write(b, off, len);
            }
        };
        CappedOutputStream capped = new CappedOutputStream(failingOnce, 1000);
        capped.write("abc".getBytes());
        capped.write("def".getBytes());
        capped.close();
        assertThat(sink.toString()).isEqualTo("\n[whatami: output could not be written (No space left on device): 6 bytes]\n");
    }
}
