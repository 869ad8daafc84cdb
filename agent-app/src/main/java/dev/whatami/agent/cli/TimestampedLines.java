package dev.whatami.agent.cli;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * Starts every line of the agent's own log with its UTC time, e.g. {@code 2026-11-25T22:22:34.845Z}: agent.log
 * gathers many boots, so lines carry the date, and UTC reads the same on every machine and in every console.
 *
 * <p>Done here rather than by slf4j-simple's {@code dateTimeFormat}, which builds a {@code SimpleDateFormat}
 * and with it a {@code GregorianCalendar} and the locale's calendar data: ~15 ms on every boot.
 */
final class TimestampedLines extends FilterOutputStream {
    private final Clock clock;
    private boolean lineStart = true;

    TimestampedLines(OutputStream out, Clock clock) {
        super(out);
        this.clock = clock;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        if (lineStart) {
            stamp();
        }
        out.write(b);
        lineStart = b == '\n';
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        int end = off + len;
        int from = off;
        while (from < end) {
            if (lineStart) {
                stamp();
                lineStart = false;
            }
            int nl = from;
            while (nl < end && b[nl] != '\n') {
                nl++;
            }
            if (nl < end) {
                out.write(b, from, nl + 1 - from);
                lineStart = true;
                from = nl + 1;
            } else {
                out.write(b, from, end - from);
                from = end;
            }
        }
    }

    private void stamp() throws IOException {
        out.write(format(clock.millis()).getBytes(StandardCharsets.US_ASCII));
    }

    /** {@code yyyy-MM-ddTHH:mm:ss.SSSZ } for an epoch millisecond, built by hand (no formatter on the boot path). */
    static String format(long epochMillis) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(Math.floorDiv(epochMillis, 1000L),
                (int) Math.floorMod(epochMillis, 1000L) * 1_000_000, ZoneOffset.UTC);
        StringBuilder s = new StringBuilder(26);
        s.append(t.getYear()).append('-');
        pad(s, t.getMonthValue(), 2).append('-');
        pad(s, t.getDayOfMonth(), 2).append('T');
        pad(s, t.getHour(), 2).append(':');
        pad(s, t.getMinute(), 2).append(':');
        pad(s, t.getSecond(), 2).append('.');
        pad(s, t.getNano() / 1_000_000, 3).append("Z ");
        return s.toString();
    }

    private static StringBuilder pad(StringBuilder s, int value, int width) {
        String digits = Integer.toString(value);
        for (int i = digits.length(); i < width; i++) {
            s.append('0');
        }
        return s.append(digits);
    }
}
