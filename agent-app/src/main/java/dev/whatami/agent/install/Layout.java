package dev.whatami.agent.install;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/** What install writes into a root; printed as a plan for --dry-run, then applied. */
final class Layout {
    interface Content {
        byte[] bytes() throws IOException;
    }

    private record Entry(String path, Content content, String mode, Path sameAs, String link, boolean remove) {
    }

    private final Path rootDir;
    private final List<Entry> entries = new ArrayList<>();

    Layout(Path rootDir) {
        this.rootDir = rootDir;
    }

    void file(String path, Content content, String mode, Path sameAs) {
        entries.add(new Entry(path, content, mode, sameAs, null, false));
    }

    void directory(String path) {
        entries.add(new Entry(path, null, "rwxr-xr-x", null, null, false));
    }

    /** A unit file from this jar to /etc/systemd/system, enabled as `systemctl enable` would. */
    void unit(String name) {
        file("/etc/systemd/system/" + name, () -> resource(name).getBytes(StandardCharsets.UTF_8), "rw-r--r--",
                null);
        entries.add(new Entry("/etc/systemd/system/multi-user.target.wants/" + name, null, null, null,
                "/etc/systemd/system/" + name, false));
    }

    void remove(String path) {
        entries.add(new Entry(path, null, null, null, null, true));
    }

    private Path host(String path) {
        return rootDir.resolve(path.substring(1));
    }

    List<String> plan() {
        List<String> lines = new ArrayList<>();
        for (Entry e : entries) {
            Path p = host(e.path);
            if (e.remove) {
                if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                    lines.add("would remove " + p);
                }
            } else if (e.link != null) {
                lines.add("would link " + p + " -> " + e.link);
            } else if (e.content == null) {
                lines.add("would create " + p + "/");
            } else {
                lines.add("would write " + p + " (mode " + e.mode + ")");
            }
        }
        return lines;
    }

    void apply() throws IOException {
        for (Entry e : entries) {
            Path p = host(e.path);
            if (e.remove) {
                Files.deleteIfExists(p);
            } else if (e.link != null) {
                Files.createDirectories(p.getParent());
                Files.deleteIfExists(p);
                Files.createSymbolicLink(p, Path.of(e.link));
            } else if (e.content == null) {
                Files.createDirectories(p);
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(e.mode));
            } else {
                if (e.sameAs == null || !Files.exists(p) || !Files.isSameFile(p, e.sameAs)) {
                    // written whole or not at all (owner-only while it is written), then opened up
                    dev.whatami.status.AtomicFiles.write(p, e.content.bytes());
                }
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(e.mode));
            }
        }
    }

    /** One of the files this jar carries for the package and for install (the unit files, the launcher). */
    static String resource(String name) {
        try (InputStream in = Layout.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("this jar lacks dev/whatami/agent/install/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code path} (absolute, as the booted system sees it) inside {@code rootDir}, with every symlink followed
     * as the booted system would follow it — absolute targets anchored at the root, never leaving it.
     *
     * @return the host path, or null when a link loops or the path does not exist
     */
    static Path inRoot(Path rootDir, String path) {
        List<String> todo = new ArrayList<>(List.of(path.substring(1).split("/")));
        Path at = rootDir;
        for (int hops = 0; !todo.isEmpty(); ) {
            String part = todo.remove(0);
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                at = at.equals(rootDir) ? rootDir : at.getParent();
                continue;
            }
            Path next = at.resolve(part);
            if (Files.isSymbolicLink(next)) {
                if (++hops > 40) {
                    return null;
                }
                String target;
                try {
                    target = Files.readSymbolicLink(next).toString();
                } catch (IOException e) {
                    return null;
                }
                todo.addAll(0, List.of(target.split("/")));
                if (target.startsWith("/")) {
                    at = rootDir;
                }
            } else if (Files.exists(next, LinkOption.NOFOLLOW_LINKS)) {
                at = next;
            } else {
                return null;
            }
        }
        return at;
    }
}
