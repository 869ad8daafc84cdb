package dev.whatami.userdata.internal;

import dev.whatami.userdata.ForeignFormat;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Recognises user-data meant for another boot tool the way cloud-init does: by how it starts, ignoring case and
 * leading whitespace, the longest marker first ({@code #cloud-config-archive} before {@code #cloud-config}).
 */
public final class Sniff {
    /** What was recognised, and by which marker. */
    public record Match(ForeignFormat format, String marker) {
        /** E.g. {@code cloud-config (it starts with #cloud-config), which cloud-init runs and whatami does not}. */
        public String sentence() {
            String how = format == ForeignFormat.IGNITION ? "JSON with an \"ignition\" key" : "it starts with " + marker;
            return format.description() + " (" + how + "), which " + format.whoRunsIt() + " and whatami does not";
        }
    }

    private static final int HEAD = 4096;
    /**
     * The longer marker first, markers of one length in the order above. A class, not
     * {@code Comparator.comparingInt(...).reversed()}: the JDK's lambda in {@code comparingInt} is not kept in a JDK 25
     * AOT cache, and building it took ~1 ms of every boot.
     */
    private static final Comparator<Map.Entry<String, ForeignFormat>> LONGEST_FIRST = new Comparator<>() {
        @Override
        public int compare(Map.Entry<String, ForeignFormat> a, Map.Entry<String, ForeignFormat> b) {
            return Integer.compare(b.getKey().length(), a.getKey().length());
        }
    };
    private static final List<Map.Entry<String, ForeignFormat>> MARKERS = List.<Map.Entry<String, ForeignFormat>>of(
                    Map.entry("#cloud-config", ForeignFormat.CLOUD_CONFIG),
                    Map.entry("#cloud-config-archive", ForeignFormat.CLOUD_CONFIG_ARCHIVE),
                    Map.entry("#cloud-config-jsonp", ForeignFormat.CLOUD_CONFIG_JSONP),
                    Map.entry("#cloud-boothook", ForeignFormat.BOOTHOOK),
                    Map.entry("## template: jinja", ForeignFormat.JINJA_TEMPLATE),
                    Map.entry("#include", ForeignFormat.INCLUDE),
                    Map.entry("#include-once", ForeignFormat.INCLUDE_ONCE),
                    Map.entry("#part-handler", ForeignFormat.PART_HANDLER),
                    Map.entry("#upstart-job", ForeignFormat.UPSTART_JOB),
                    Map.entry("<powershell>", ForeignFormat.WINDOWS_SCRIPT),
                    Map.entry("<script>", ForeignFormat.WINDOWS_SCRIPT),
                    Map.entry("<persist>", ForeignFormat.WINDOWS_SCRIPT),
                    Map.entry("#ps1", ForeignFormat.WINDOWS_SCRIPT),
                    Map.entry("#ps1_sysnative", ForeignFormat.WINDOWS_SCRIPT),
                    Map.entry("#ps1_x86", ForeignFormat.WINDOWS_SCRIPT))
            .stream().sorted(LONGEST_FIRST).toList();

    private Sniff() {
    }

    /** The format {@code data} is written in, if it is one of another tool's. */
    public static Optional<Match> of(byte[] data) {
        String head = new String(data, 0, Math.min(data.length, HEAD), StandardCharsets.ISO_8859_1)
                .replaceFirst("^\u00EF\u00BB\u00BF", "") // a UTF-8 BOM, read as Latin-1
                .stripLeading().toLowerCase(Locale.ROOT);
        for (Map.Entry<String, ForeignFormat> m : MARKERS) {
            if (head.startsWith(m.getKey())) {
                return Optional.of(new Match(m.getValue(), m.getKey()));
            }
        }
        if (head.startsWith("{") && head.matches("(?s)\\{\\s*\"ignition\"\\s*:.*")) {
            return Optional.of(new Match(ForeignFormat.IGNITION, "{"));
        }
        return Optional.empty();
    }

    /** The format a MIME part of {@code mimeType} (lower case, no parameters) holds, if it is one of another tool's. */
    public static Optional<ForeignFormat> ofMimeType(String mimeType) {
        for (ForeignFormat f : ForeignFormat.values()) {
            if (f.mimeType().equals(mimeType)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }
}
