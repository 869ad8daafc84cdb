package dev.whatami.server.pages;

import java.io.IOException;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's error pages without what a client must not see: no stack traces, no causes, and for server errors (5xx) no
 * message either — an exception's message may name a file under the root or the data directory. The operator's log
 * has the detail. Client errors (4xx) keep their message: those are written to tell the client what to change.
 *
 * <p>Public for {@code ScriptServer}; not an API.
 */
public final class ErrorPages extends ErrorHandler {
    public ErrorPages() {
        setShowStacks(false);
        setShowCauses(false);
        setShowOrigin(false);
        setShowMessageInTitle(false);
    }

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
            Callback callback) throws IOException {
        boolean serverError = code >= 500;
        super.generateResponse(request, response, code,
                serverError ? "the server failed; its log says why" : message, null, callback);
    }
}
