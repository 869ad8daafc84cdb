package dev.whatami.server.access;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The server's secrets (upload, report and read tokens) come from files, never from its command line, where every
 * local user reads them in {@code /proc/<pid>/cmdline}: a file named by a flag, or else the credential systemd's
 * {@code LoadCredential=} put in {@code $CREDENTIALS_DIRECTORY}. A token file must be a regular file that only its
 * owner (and root's group) can read; its first line is the token. Messages name the file, never what it holds.
 *
 * <p>Public for {@code WhatamiServer}; not an API.
 */
public final class TokenFiles {
    /** The credential directory the package's unit loads: {@code LoadCredential=token:/etc/whatami-server/tokens}. */
    static final String CREDENTIAL_PREFIX = "token_";
    static final int MAX_BYTES = 4096;

    private TokenFiles() {
    }

    /** The kinds of token, by the flag that names their file and the credential (file) name. */
    public enum Kind {
        UPLOAD("--upload-token-file", "upload"),
        REPORT("--report-token-file", "report"),
        READ("--read-token-file", "read");

        final String flag;
        final String credential;

        Kind(String flag, String credential) {
            this.flag = flag;
            this.credential = credential;
        }
    }

    /**
     * The token of {@code kind}: from {@code file} if given, else from {@code $CREDENTIALS_DIRECTORY/token_<kind>} if
     * that exists, else none.
     *
     * @throws IllegalArgumentException a message that says which file is wrong and what to do
     */
    public static Optional<String> token(Kind kind, Path file, Map<String, String> environment) {
        if (file != null) {
            return Optional.of(read(file, kind.flag + " " + file));
        }
        String dir = environment.get("CREDENTIALS_DIRECTORY");
        if (dir == null || dir.isEmpty()) {
            return Optional.empty();
        }
        Path credential = Path.of(dir).resolve(CREDENTIAL_PREFIX + kind.credential);
        if (!Files.exists(credential, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        return Optional.of(read(credential, "the credential " + credential + " (from /etc/whatami-server/tokens/"
                + kind.credential + ")"));
    }

    static String read(Path file, String what) {
        try {
            if (!Files.exists(file)) {
                throw new NoSuchFileException(file.toString());
            }
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException(what + " is not a regular file; write the token to a file (chmod 600)");
            }
            if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
                Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
                int gid = (Integer) Files.getAttribute(file, "unix:gid");
                boolean groupReads = mode.contains(PosixFilePermission.GROUP_READ) && gid != 0;
                if (mode.contains(PosixFilePermission.OTHERS_READ) || groupReads) {
                    throw new IllegalArgumentException(what + " can be read by " + (groupReads ? "its group (gid " + gid
                            + ")" : "every user") + " (mode " + PosixFilePermissions.toString(mode) + "); chmod 600 "
                            + file + " (or 640 with group root), then start again");
                }
            }
            byte[] bytes;
            try (InputStream in = Files.newInputStream(file)) {
                bytes = in.readNBytes(MAX_BYTES + 1);
            }
            if (bytes.length > MAX_BYTES) {
                throw new IllegalArgumentException(what + " is larger than " + MAX_BYTES + " bytes; it should hold one "
                        + "line, the token");
            }
            String text = new String(bytes, StandardCharsets.UTF_8);
            int nl = text.indexOf('\n');
            String token = (nl < 0 ? text : text.substring(0, nl)).strip();
            if (token.isEmpty()) {
                throw new IllegalArgumentException(what + " is empty; put the token on its first line");
            }
            if (token.length() < 8) {
                throw new IllegalArgumentException(what + " holds a token shorter than 8 characters; use a long random "
                        + "one (openssl rand -hex 32)");
            }
            return token;
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(what + " does not exist; write the token to it (chmod 600)");
        } catch (IOException e) {
            throw new IllegalArgumentException(what + " cannot be read (" + e.getClass().getSimpleName()
                    + "); give a file this server's user can read");
        }
    }
}
