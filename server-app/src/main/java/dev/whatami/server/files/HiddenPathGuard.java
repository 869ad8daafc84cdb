package dev.whatami.server.files;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Refuses (404) any path with a segment that starts with "." ({@code .git}, {@code .htpasswd}, staging
 * files of uploads) or holds a backslash, before the resource handler sees it. Jetty itself already refuses
 * {@code ..} in any encoding and symlinks that lead out of the root.
 *
 * <p>Public for {@code ScriptServer}, which mounts it; not an API.
 */
public final class HiddenPathGuard extends Handler.Wrapper {
    public HiddenPathGuard(Handler handler) {
        super(handler);
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        String path = Request.getPathInContext(request);
        if (path != null && (path.contains("/.") || path.startsWith(".") || path.contains("\\")
                || path.indexOf('\0') >= 0)) {
            Response.writeError(request, response, callback, 404);
            return true;
        }
        return super.handle(request, response, callback);
    }
}
