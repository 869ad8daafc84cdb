package dev.whatami.emulator.internal;

import dev.whatami.emulator.EmulatorAnswer;
import dev.whatami.emulator.EmulatorRequest;

/** One emulated metadata service: the paths it owns and how it answers them. */
public interface CloudService {
    /** Whether {@code path} is this service's. */
    boolean owns(String path);

    /** The answer to a request for one of its paths. */
    EmulatorAnswer answer(EmulatorRequest request);

    /** An HTML error page like the ones EC2's and GCE's front ends send. */
    static EmulatorAnswer htmlError(int status) {
        String title = status + " - " + reason(status);
        return EmulatorAnswer.of(status, "text/html", "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n"
                + "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n"
                + "\t\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n"
                + "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n <head>\n  <title>"
                + title + "</title>\n </head>\n <body>\n  <h1>" + title + "</h1>\n </body>\n</html>\n");
    }

    /** The reason phrase for a status. */
    static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            case 504 -> "Gateway Timeout";
            default -> status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
        };
    }

    /** A directory listing: names one per line, no trailing newline (as EC2 and GCE list). */
    static String listing(String... names) {
        return String.join("\n", names);
    }
}
