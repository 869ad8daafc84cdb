package dev.whatami.server.access;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Slowloris defence, which Jetty does not have for request headers: its idle timeout restarts with every byte, so a
 * client that sends one header byte every few seconds is never idle and holds its connection (and, past
 * {@code --max-connections}, everyone else's place) for ever.
 *
 * <ul>
 *   <li><b>Header deadline</b>: a request's headers must be complete within {@code headerTimeout} of the
 *       connection opening, or of the first byte after the previous response on a kept-alive connection. A
 *       connection past it is answered {@code 408} (plain HTTP/1) and closed.</li>
 *   <li><b>At the connection limit</b> (accepting has stopped), connections that have waited longer than
 *       {@code busyGrace} without a complete request — half-sent headers and idle keep-alive alike — are
 *       closed, so the clients waiting in the accept queue get their turn: a real client sends its headers in
 *       milliseconds.</li>
 * </ul>
 * <ul>
 *   <li><b>Request bodies</b> (reports, uploads) must arrive at {@code minBodyRate} bytes a second on average once
 *       the handler reads them, and never pause longer than the header timeout; otherwise the connection is
 *       closed (the handler's read fails).</li>
 * </ul>
 * Otherwise a connection with a request being handled is never touched here.
 *
 * <p>Public for {@code ScriptServer}, which installs it; not an API.
 */
public final class SlowClientGuard extends AbstractLifeCycle implements Connection.Listener {
    private static final long TICK_MILLIS = 200;
    private static final String TIMEOUT_BODY = "the request headers did not arrive in time; send them whole and "
            + "promptly\n";
    private static final byte[] TIMEOUT_RESPONSE = ("HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\n"
            + "Connection: close\r\nContent-Length: " + TIMEOUT_BODY.length() + "\r\n\r\n" + TIMEOUT_BODY)
            .getBytes(StandardCharsets.US_ASCII);

    private final long headerTimeoutNanos;
    private final long busyGraceNanos;
    private final long minBodyRate;
    private final NetworkConnectionLimit limit;
    private final Scheduler scheduler;
    private final Map<EndPoint, Track> tracks = new ConcurrentHashMap<>();
    private volatile Scheduler.Task tick;

    public SlowClientGuard(Duration headerTimeout, Duration busyGrace, long minBodyRate, NetworkConnectionLimit limit,
            Scheduler scheduler) {
        this.headerTimeoutNanos = headerTimeout.toNanos();
        this.minBodyRate = minBodyRate;
        this.busyGraceNanos = busyGrace.toNanos();
        this.limit = limit;
        this.scheduler = scheduler;
    }

    /** The handler that tells the guard when a request is being handled; outermost, so it sees every request. */
    public Handler handler(Handler next) {
        return new Handler.Wrapper(next) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                Track t = tracks.get(network(request.getConnectionMetaData().getConnection().getEndPoint()));
                if (t == null) {
                    return super.handle(request, response, callback);
                }
                Body body = new Body(request);
                t.begin(body);
                Callback done = Callback.from(() -> t.end(body), callback);
                try {
                    if (!super.handle(body, response, done)) {
                        Response.writeError(body, response, done, 404);
                    }
                } catch (Throwable x) {
                    t.end(body);
                    throw x;
                }
                return true;
            }
        };
    }

    @Override
    public void onOpened(Connection connection) {
        EndPoint ep = network(connection.getEndPoint());
        tracks.computeIfAbsent(ep, e -> new Track(e, System.nanoTime()));
    }

    @Override
    public void onClosed(Connection connection) {
        EndPoint ep = network(connection.getEndPoint());
        if (!ep.isOpen()) {
            tracks.remove(ep);
        }
    }

    @Override
    protected void doStart() {
        schedule();
    }

    @Override
    protected void doStop() {
        Scheduler.Task t = tick;
        if (t != null) {
            t.cancel();
        }
        tracks.clear();
    }

    private void schedule() {
        tick = scheduler.schedule(this::sweep, TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    void sweep() {
        try {
            long now = System.nanoTime();
            boolean full = limit != null && limit.getNetworkConnectionCount() >= limit.getMaxNetworkConnectionCount();
            for (Track t : tracks.values()) {
                if (!t.endPoint.isOpen()) {
                    tracks.remove(t.endPoint, t);
                } else if (t.active.get() == 0) {
                    t.check(now, full);
                } else {
                    for (Body b : t.bodies) {
                        if (b.tooSlow(now)) {
                            t.endPoint.close(); // the handler's read fails; nothing more is read from this client
                        }
                    }
                }
            }
        } finally {
            if (isRunning()) {
                schedule();
            }
        }
    }

    private static EndPoint network(EndPoint ep) {
        while (ep instanceof EndPoint.Wrapper w) {
            ep = w.unwrap();
        }
        return ep;
    }

    /**
     * A request whose body is being read: from the handler's first read, the body must arrive at
     * {@code minBodyRate} bytes a second on average (after a second's grace), and never stall for longer than the
     * header timeout. Jetty's own minimum data rate no longer exists in 12.1, and its handler refuses a body whose
     * first bytes are not there yet when it is first asked for.
     */
    private final class Body extends Request.Wrapper {
        private volatile long firstRead = -1;
        private volatile long lastData;
        private volatile long bytes;
        private volatile boolean complete;

        Body(Request request) {
            super(request);
        }

        @Override
        public org.eclipse.jetty.io.Content.Chunk read() {
            long now = System.nanoTime();
            if (firstRead < 0) {
                firstRead = now;
                lastData = now;
            }
            org.eclipse.jetty.io.Content.Chunk c = super.read();
            if (c != null) {
                lastData = now;
                bytes += c.remaining();
                if (c.isLast()) {
                    complete = true;
                }
            }
            return c;
        }

        boolean tooSlow(long now) {
            long started = firstRead;
            if (started < 0 || complete || minBodyRate <= 0) {
                return false;
            }
            long elapsed = now - started - TimeUnit.SECONDS.toNanos(1);
            return now - lastData > headerTimeoutNanos
                    || elapsed > 0 && bytes < minBodyRate * elapsed / TimeUnit.SECONDS.toNanos(1);
        }
    }

    private final class Track {
        final EndPoint endPoint;
        final AtomicInteger active = new AtomicInteger();
        /** When the wait for the next request's headers began (nanoTime). */
        volatile long waitingSince;
        /** Kept-alive and nothing of a next request seen yet: the idle timeout's business, unless the server is full. */
        volatile boolean idle;
        volatile long bytesInWhenIdle;

        Track(EndPoint endPoint, long now) {
            this.endPoint = endPoint;
            this.waitingSince = now;
        }

        final java.util.Set<Body> bodies = ConcurrentHashMap.newKeySet();

        void begin(Body body) {
            active.incrementAndGet();
            bodies.add(body);
        }

        void end(Body body) {
            if (!bodies.remove(body)) {
                return; // ended already
            }
            if (active.decrementAndGet() == 0) {
                bytesInWhenIdle = bytesIn();
                waitingSince = System.nanoTime();
                idle = true;
            }
        }

        long bytesIn() {
            Connection c = endPoint.getConnection();
            return c == null ? 0 : c.getBytesIn();
        }

        void check(long now, boolean full) {
            if (idle) {
                long in = bytesIn();
                if (in > bytesInWhenIdle) {
                    idle = false; // a next request has started to arrive: its header clock runs from now
                    waitingSince = now;
                    return;
                }
                if (full && now - waitingSince > busyGraceNanos) {
                    endPoint.close();
                }
                return;
            }
            long waited = now - waitingSince;
            if (waited > headerTimeoutNanos || (full && waited > busyGraceNanos)) {
                refuse();
            }
        }

        private void refuse() {
            Connection c = endPoint.getConnection();
            boolean plainHttp1 = !(c instanceof SslConnection) && c instanceof ConnectionMetaData md
                    && md.getHttpVersion() != HttpVersion.HTTP_2;
            if (plainHttp1) {
                try {
                    endPoint.write(Callback.from(endPoint::close, x -> endPoint.close()),
                            ByteBuffer.wrap(TIMEOUT_RESPONSE));
                    return;
                } catch (RuntimeException e) {
                    // a write in progress after all: just close
                }
            }
            endPoint.close();
        }
    }
}
