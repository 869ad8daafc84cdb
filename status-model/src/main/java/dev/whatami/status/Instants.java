package dev.whatami.status;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;

/**
 * {@link Instant#parse} with a fast path for the one form the agent writes ({@link Instant#toString}: {@code
 * 2026-12-02T10:15:30Z}, {@code 2026-12-02T10:15:30.123Z}, up to nine digits of fraction). A ledger holds up to twenty
 * events a task, each read back with its time at every look-up, and {@code DateTimeFormatter}'s general parser costs
 * tens of microseconds a time in a boot's interpreter. Anything else — lower-case letters, offsets, a leap second,
 * a date that does not exist, a malformed string — goes to {@code Instant.parse}, so the result, and the exception,
 * are always {@code Instant.parse}'s.
 */
final class Instants {
    private Instants() {
    }

    static Instant parse(String s) {
        Instant fast = canonical(s);
        return fast != null ? fast : Instant.parse(s);
    }

    /** {@code s} in the canonical form, or null when it is in any other (or none). */
    private static Instant canonical(String s) {
        int n = s.length();
        if (n < 20 || n > 30 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T'
                || s.charAt(13) != ':' || s.charAt(16) != ':' || s.charAt(n - 1) != 'Z') {
            return null;
        }
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 7);
        int day = digits(s, 8, 10);
        int hour = digits(s, 11, 13);
        int minute = digits(s, 14, 16);
        int second = digits(s, 17, 19);
        if (year < 0 || month < 0 || day < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0
                || second > 59) {
            return null;
        }
        int nanos = 0;
        if (n > 20) {
            int fraction = n - 21; // the digits between '.' and 'Z'
            if (s.charAt(19) != '.' || fraction < 1 || fraction > 9) {
                return null;
            }
            nanos = digits(s, 20, n - 1);
            if (nanos < 0) {
                return null;
            }
            for (int i = fraction; i < 9; i++) {
                nanos *= 10;
            }
        }
        long epochDay;
        try {
            epochDay = LocalDate.of(year, month, day).toEpochDay();
        } catch (DateTimeException e) {
            return null; // no such date: Instant.parse says so in its words
        }
        return Instant.ofEpochSecond(epochDay * 86_400 + hour * 3_600L + minute * 60L + second, nanos);
    }

    /** The decimal number {@code s[from, to)}, or -1 if any of it is not an ASCII digit. */
    private static int digits(String s, int from, int to) {
        int v = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }
}
