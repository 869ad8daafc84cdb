package dev.whatami.userdata;

import java.net.URI;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** Where a task's script comes from: a remote URL (with mirrors) or bytes carried in the user-data. */
public sealed interface TaskSource {

    /**
     * A script to download.
     *
     * @param url     the primary URL ({@code http}, {@code https}, {@code file}, {@code s3} or {@code gs})
     * @param mirrors further URLs of the same script, tried in order after {@code url}
     */
    record Remote(URI url, List<URI> mirrors) implements TaskSource {
        public Remote {
            Objects.requireNonNull(url, "url");
            mirrors = List.copyOf(mirrors);
        }

        /** {@code url} followed by the mirrors. */
        public List<URI> allUrls() {
            return java.util.stream.Stream.concat(java.util.stream.Stream.of(url), mirrors.stream()).toList();
        }
    }

    /** A script carried in the user-data itself (script form, or a MIME shell-script part). */
    final class Inline implements TaskSource {
        private final byte[] content;

        public Inline(byte[] content) {
            this.content = content.clone();
        }

        /** A copy of the script's bytes. */
        public byte[] content() {
            return content.clone();
        }

        public int size() {
            return content.length;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Inline other && Arrays.equals(content, other.content);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(content);
        }

        @Override
        public String toString() {
            return "Inline[" + content.length + " bytes]";
        }
    }
}
