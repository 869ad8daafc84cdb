package dev.whatami.agent.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Tests read status.json as plain JSON too: what a tool without the codec sees. */
final class StatusJson {
    private StatusJson() {
    }

    static Map<String, Object> read(Path file) throws IOException {
        return JSON.std.mapFrom(Files.readAllBytes(file));
    }
}
