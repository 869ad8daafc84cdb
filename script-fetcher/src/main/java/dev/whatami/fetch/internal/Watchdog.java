package dev.whatami.fetch.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Timer;
import java.util.TimerTask;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;

/**
 * Ends attempts at their deadline. A socket's read timeout restarts with every byte, so a server that sends one byte
 * a second is never "silent"; an attempt therefore also has an overall deadline, and when it passes the watchdog
 * cancels the request in flight and closes its connection at once (never draining the rest of a body). One daemon
 * thread per fetcher, started on the first attempt that needs it.
 */
final class Watchdog implements AutoCloseable {
    private final Clock clock;
    private Timer timer;
    private boolean closed;

    Watchdog(Clock clock) {
        this.clock = clock;
    }

    /** A scope that expires at {@code deadline} (on the fetcher's clock). */
    Scope arm(Instant deadline, String what) {
        Scope scope = new Scope(deadline, what);
        long delay = Math.max(0, Duration.between(clock.instant(), deadline).toMillis());
        synchronized (this) {
            if (closed) {
                throw new IllegalStateException("the fetcher is closed");
            }
            if (timer == null) {
                timer = new Timer("whatami-fetch-deadline", true);
            }
            timer.schedule(scope.task, delay);
        }
        return scope;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (timer != null) {
            timer.cancel();
        }
    }

    /** One attempt: the request and response in flight, and whether the deadline has passed. */
    static final class Scope implements AutoCloseable {
        private final Instant deadline;
        private final String what;
        private volatile boolean expired;
        private volatile HttpUriRequestBase request;
        private volatile Exchange.Response response;
        private final TimerTask task = new TimerTask() {
            @Override
            public void run() {
                expire();
            }
        };

        private Scope(Instant deadline, String what) {
            this.deadline = deadline;
            this.what = what;
        }

        Instant deadline() {
            return deadline;
        }

        /** What the deadline is, for messages: e.g. "the attempt's deadline (attemptTimeout 5 s)". */
        String what() {
            return what;
        }

        boolean expired() {
            return expired;
        }

        void track(HttpUriRequestBase r) {
            request = r;
            if (expired) {
                r.cancel();
            }
        }

        void track(Exchange.Response r) {
            response = r;
            if (expired) {
                r.abort();
            }
        }

        void expire() {
            expired = true;
            HttpUriRequestBase r = request;
            if (r != null) {
                r.cancel();
            }
            Exchange.Response open = response;
            if (open != null) {
                open.abort();
            }
        }

        @Override
        public void close() {
            task.cancel();
        }
    }
}
