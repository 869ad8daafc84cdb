package dev.whatami.fetch;

import java.net.URI;
import java.util.OptionalLong;

/** Hears how a download goes; called on the fetching thread, about once per MiB. Default: nothing. */
@FunctionalInterface
public interface FetchListener {
    FetchListener NONE = (url, bytes, total) -> { };

    /**
     * @param url   the URL being read
     * @param bytes bytes received so far (including any resumed part)
     * @param total the full size, when the server said
     */
    void progress(URI url, long bytes, OptionalLong total);
}
