package dev.whatami.server.files;

import dev.whatami.server.access.BearerToken;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import dev.whatami.userdata.ScriptName;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code PUT} and {@code DELETE /scriptserver/<name>} with {@code Authorization: Bearer <token>}: the seed's
 * "upload the files to www/scriptserver" as {@code curl -T}. Writes are atomic (staging file, fsync, rename)
 * and size-capped; without a configured token both methods answer 405. Names follow {@link ScriptName}: plain
 * file names, never paths, never hidden.
 *
 * <p>Public for {@code ScriptServer}, which mounts it; not an API.
 */
public final class UploadHandler extends Handler.Wrapper {
    private static final Logger LOG = LoggerFactory.getLogger(UploadHandler.class);
    /** Upload temp files: hidden (never served, never listed), and removed at start when abandoned. */
    static final String TEMP_PREFIX = ".whatami-upload-";
    private static final FileAttribute<?>[] OWNER_ONLY = {
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))};

    private final Path root;
    private final Optional<BearerToken> token;
    private final long maxBytes;

    public UploadHandler(Handler files, Path root, Optional<String> token, long maxBytes) {
        super(files);
        this.root = root;
        this.token = token.map(BearerToken::bearer);
        this.maxBytes = maxBytes;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String method = request.getMethod();
        if (!method.equals("PUT") && !method.equals("DELETE")) {
            return super.handle(request, response, callback);
        }
        response.getHeaders().put(HttpHeader.CONNECTION, "close"); // a refused body is never read
        if (token.isEmpty()) {
            response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
            return text(response, callback, 405, "uploads are off; start the server with --upload-token-file FILE\n");
        }
        if (!token.get().presentIn(request)) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
            return text(response, callback, 401, "a valid upload token is required\n");
        }
        String path = Request.getPathInContext(request);
        String name = path.startsWith("/") ? path.substring(1) : path;
        java.util.Optional<String> problem = ScriptName.problem(name);
        if (problem.isPresent()) {
            return text(response, callback, 400, "cannot " + method + " /scriptserver/<name>: "
                    + problem.get() + "\n");
        }
        Path target = root.resolve(name);
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            return text(response, callback, 409, "/scriptserver/" + name + " is a directory; " + method
                    + " names a file\n");
        }
        if (method.equals("DELETE")) {
            try {
                return text(response, callback, Files.deleteIfExists(target) ? 204 : 404, "");
            } catch (IOException e) {
                return failed(response, callback, "delete", name, e);
            }
        }
        long declared = request.getLength();
        if (declared > maxBytes) {
            return text(response, callback, 413, "uploads are at most " + maxBytes + " bytes (--max-upload)\n");
        }
        boolean existed = Files.exists(target, LinkOption.NOFOLLOW_LINKS);
        Path tmp = null;
        try {
            tmp = newTempFile();
            long size = 0;
            try (InputStream in = Request.asInputStream(request);
                 FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                byte[] buffer = new byte[64 * 1024];
                int n;
                while ((n = in.read(buffer)) != -1) {
                    size += n;
                    if (size > maxBytes) {
                        return text(response, callback, 413, "uploads are at most " + maxBytes + " bytes "
                                + "(--max-upload)\n");
                    }
                    ByteBuffer b = ByteBuffer.wrap(buffer, 0, n);
                    while (b.hasRemaining()) {
                        out.write(b);
                    }
                }
                out.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return text(response, callback, existed ? 204 : 201, "");
        } catch (IOException e) {
            return failed(response, callback, "store", name, e);
        } finally {
            if (tmp != null) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Is this a temp file of an upload (ours, or the previous version's {@code .<name>.<n>.upload})? */
    public static boolean isTempName(String fileName) {
        return fileName.startsWith(".") && (fileName.startsWith(TEMP_PREFIX) && fileName.endsWith(".tmp")
                || fileName.endsWith(".upload"));
    }

    /** A short name whatever the target's length (a 255-character name has no room for a prefix). */
    private Path newTempFile() throws IOException {
        while (true) {
            Path tmp = root.resolve(TEMP_PREFIX + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                return Files.createFile(tmp, OWNER_ONLY);
            } catch (FileAlreadyExistsException e) {
                // taken; another name
            }
        }
    }

    /** A storage failure, told without the server's paths (the log has them). */
    private static boolean failed(Response response, Callback callback, String what, String name, IOException e) {
        String reason = e instanceof FileSystemException fse && fse.getReason() != null ? fse.getReason() : "";
        if (reason.contains("File name too long")) {
            return text(response, callback, 400, "the name " + name.length() + " characters long is too long for "
                    + "this server's file system; choose a shorter one\n");
        }
        if (reason.contains("No space left")) {
            return text(response, callback, 507, "the server's disk is full; " + name + " was not stored\n");
        }
        LOG.warn("could not {} {}: {}", what, name, e.toString());
        return text(response, callback, 500, "could not " + what + " " + name + "; the server's log says why\n");
    }

    private static boolean text(Response response, Callback callback, int status, String body) {
        response.setStatus(status);
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");
        }
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, b.length);
        response.write(true, ByteBuffer.wrap(b), callback);
        return true;
    }
}
