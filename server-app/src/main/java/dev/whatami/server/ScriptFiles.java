package dev.whatami.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.http.content.HttpContent;
import org.eclipse.jetty.http.content.ResourceHttpContentFactory;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ResourceHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.URIUtil;

/**
 * {@code GET}/{@code HEAD} of the scripts: Jetty's {@link ResourceHandler} (conditional requests, single byte ranges,
 * content types, the alias check that keeps symlinks inside the root) over {@link FileSnapshots} instead of Jetty's
 * content cache, plus what Jetty leaves out:
 * <ul>
 *   <li>{@code If-Range} (RFC 9110 §13.1.5): a range is served only if the validator is strong and still current —
 *       an ETag that matches exactly, or the Last-Modified date of a file last changed at least two seconds ago.
 *       Otherwise the whole file is sent (200), so a resumed download is never spliced from two versions.</li>
 *   <li>Several ranges in one request are answered with the whole file: no agent asks for them, and
 *       {@code multipart/byteranges} would read the file again, outside the snapshot.</li>
 *   <li>{@code X-Accel-Expires: @1} ahead of {@code Cache-Control: no-cache}, so nginx's {@code proxy_cache} keeps
 *       a copy but revalidates it on every request (see {@link #X_ACCEL_EXPIRES}).</li>
 *   <li>Directory listings (only with {@code --list}) show only what could be served: no hidden names (so no
 *       upload in progress, no {@code .git}), no symlinks that lead out of the root, nothing but files and
 *       directories.</li>
 * </ul>
 */
final class ScriptFiles extends ResourceHandler {
    /** Files up to this size are served from memory. */
    static final long MAX_SNAPSHOT_FILE = 4L << 20;
    /** Memory for snapshots, all files together. */
    static final long MAX_SNAPSHOT_TOTAL = 64L << 20;

    private final Path root;
    private final boolean list;

    ScriptFiles(Path root, boolean list) {
        this.root = root;
        this.list = list;
    }

    @Override
    protected HttpContent.Factory newHttpContentFactory(ByteBufferPool.Sized pool) {
        return new FileSnapshots(new ResourceHttpContentFactory(getBaseResource(), getMimeTypes(), pool), pool,
                MAX_SNAPSHOT_FILE, MAX_SNAPSHOT_TOTAL, Path.of(System.getProperty("java.io.tmpdir")));
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String method = request.getMethod();
        if (!HttpMethod.GET.is(method) && !HttpMethod.HEAD.is(method)) {
            return super.handle(request, response, callback);
        }
        String path = Request.getPathInContext(request);
        HttpContent content = getResourceService().getContent(path, request);
        if (content == null) {
            return false;
        }
        if (content.getResource().isDirectory()) {
            if (list && path.endsWith("/") && content.getResource().getPath() != null) {
                return listing(request, response, callback, content.getResource().getPath());
            }
            getResourceService().doGet(request, response, callback, content); // redirect to "/", or 403
            return true;
        }
        String wanted = contentAddress(request);
        if (wanted != null) {
            return addressed(request, response, callback, content, wanted);
        }
        // nginx's proxy_cache: store the script but treat it as expired already, so every use is revalidated
        // (If-None-Match -> 304). Put before Cache-Control: nginx before 1.23 lets the first of the two decide, and
        // "no-cache" alone makes it store nothing. Other caches and CDNs follow Cache-Control: no-cache (RFC 9111:
        // store, revalidate before each use); nginx hides X-Accel-* from its clients.
        response.getHeaders().put(X_ACCEL_EXPIRES);
        getResourceService().doGet(rangeAsAllowed(request, content), response, callback, content);
        return true;
    }

    /** The {@code sha256=} of {@code ?sha256=<64 hex>}, lower-cased; null without one. */
    static String contentAddress(Request request) {
        String query = request.getHttpURI().getQuery();
        if (query == null || !query.startsWith("sha256=")) {
            return null;
        }
        return query.substring("sha256=".length()).toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * {@code GET /scriptserver/<name>?sha256=<hex>}: the content-addressed URL of one version of a script. Served only
     * while the file is that version, with {@code Cache-Control: public, max-age=31536000, immutable}, so a cache or
     * CDN in front keeps it for good and asks the origin once per version; any other version is a 404 that no cache
     * keeps. Files too large to snapshot are not content-addressed (404 as well: fetch them by name).
     */
    private boolean addressed(Request request, Response response, Callback callback, HttpContent content,
            String wanted) {
        String problem = null;
        if (!wanted.matches("[0-9a-f]{64}")) {
            problem = "sha256= must be 64 hex digits";
        } else if (!(content instanceof FileSnapshots.Snapshot snapshot)) {
            problem = "this file is larger than " + MAX_SNAPSHOT_FILE + " bytes, too large to be served by its sha256; "
                    + "fetch it by name";
        } else if (!snapshot.sha256.equals(wanted)) {
            problem = "this file's sha256 is not " + wanted + " (it has changed); fetch it by name";
        }
        if (problem != null) {
            response.setStatus(problem.startsWith("sha256=") ? 400 : 404);
            response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");
            response.write(true, java.nio.ByteBuffer.wrap((problem + "\n").getBytes(
                    java.nio.charset.StandardCharsets.UTF_8)), callback);
            return true;
        }
        // the resource service puts its Cache-Control (no-cache); this version's answer is immutable instead
        HttpFields.Mutable headers = new HttpFields.Mutable.Wrapper(response.getHeaders()) {
            @Override
            public HttpField onAddField(HttpField field) {
                return field.getHeader() == HttpHeader.CACHE_CONTROL ? IMMUTABLE : field;
            }

            @Override
            public HttpField onReplaceField(HttpField old, HttpField field) {
                return onAddField(field);
            }
        };
        Response immutable = new Response.Wrapper(request, response) {
            @Override
            public HttpFields.Mutable getHeaders() {
                return headers;
            }
        };
        headers.put(IMMUTABLE);
        getResourceService().doGet(rangeAsAllowed(request, content), immutable, callback, content);
        return true;
    }

    static final HttpField IMMUTABLE = new PreEncodedHttpField(HttpHeader.CACHE_CONTROL,
            "public, max-age=31536000, immutable");

    /** {@code X-Accel-Expires: @1}: expired since 1970-01-01T00:00:01Z, for nginx. */
    static final HttpField X_ACCEL_EXPIRES = new PreEncodedHttpField("X-Accel-Expires", "@1");

    /** The request, without its Range header when that range must not be served. */
    static Request rangeAsAllowed(Request request, HttpContent content) {
        HttpFields headers = request.getHeaders();
        String range = headers.get(HttpHeader.RANGE);
        if (range == null) {
            return request;
        }
        String ifRange = headers.get(HttpHeader.IF_RANGE);
        boolean serve = range.indexOf(',') < 0 && (ifRange == null || ifRangeHolds(ifRange.strip(), content));
        if (serve) {
            return request;
        }
        HttpFields without = HttpFields.build(headers).remove(HttpHeader.RANGE).remove(HttpHeader.IF_RANGE)
                .asImmutable();
        return new Request.Wrapper(request) {
            @Override
            public HttpFields getHeaders() {
                return without;
            }
        };
    }

    private static boolean ifRangeHolds(String validator, HttpContent content) {
        if (validator.startsWith("W/")) {
            return false; // weak validators never allow a range
        }
        if (validator.startsWith("\"")) {
            return validator.equals(content.getETagValue());
        }
        Instant modified = content.getLastModifiedInstant();
        return validator.equals(content.getLastModified().getValue()) && modified != null
                && modified.plusSeconds(2).isBefore(Instant.now());
    }

    private boolean listing(Request request, Response response, Callback callback, Path dir) throws IOException {
        Path realRoot = root.toRealPath();
        record Entry(String name, boolean dir, long size, Instant modified) {
        }
        List<Entry> entries = new ArrayList<>();
        try (Stream<Path> children = Files.list(dir)) {
            for (Path child : (Iterable<Path>) children::iterator) {
                String name = child.getFileName().toString();
                if (name.startsWith(".") || name.indexOf('\\') >= 0) {
                    continue; // hidden (also uploads in progress), or not servable
                }
                try {
                    if (Files.isSymbolicLink(child) && !child.toRealPath().startsWith(realRoot)) {
                        continue; // leads out of the root: never served, so never listed
                    }
                    BasicFileAttributes a = Files.readAttributes(child, BasicFileAttributes.class);
                    if (a.isRegularFile() || a.isDirectory()) {
                        entries.add(new Entry(name, a.isDirectory(), a.size(), a.lastModifiedTime().toInstant()));
                    }
                } catch (IOException e) {
                    // dangling link, or gone meanwhile: not listed
                }
            }
        }
        entries.sort(Comparator.comparing(Entry::name));
        String title = "Index of " + request.getHttpURI().getDecodedPath();
        StringBuilder b = new StringBuilder(1024).append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<title>").append(Html.esc(title)).append("</title></head><body>\n<h1>").append(Html.esc(title))
                .append("</h1>\n<table><tr><th>name</th><th>bytes</th><th>modified</th></tr>\n");
        if (!Request.getPathInContext(request).equals("/")) {
            b.append("<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
        }
        for (Entry e : entries) {
            String shown = e.name() + (e.dir() ? "/" : "");
            b.append("<tr><td><a href=\"").append(Html.esc(URIUtil.encodePath(e.name()) + (e.dir() ? "/" : "")))
                    .append("\">").append(Html.esc(shown)).append("</a></td><td>").append(e.dir() ? "" : e.size())
                    .append("</td><td>").append(e.modified()).append("</td></tr>\n");
        }
        b.append("</table></body></html>\n");
        byte[] body = b.toString().getBytes(StandardCharsets.UTF_8);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/html;charset=utf-8");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        response.write(true, HttpMethod.HEAD.is(request.getMethod()) ? ByteBuffer.allocate(0) : ByteBuffer.wrap(body),
                callback);
        return true;
    }
}
