package dev.whatami.userdata;

import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The contract every input must meet, for the fuzz test and the property test: {@code parse} returns a plan whose
 * tasks the agent can use — every URL one that java.net.URI, Path.of and an HTTP client take, every remote task
 * written back by LineForm to an equal task — or throws a {@link UserDataException} whose problems are each located
 * (line and column, or the data as a whole) and say something. Nothing else: no other exception, no error.
 */
final class ParseOutcome {
    private static final UserDataParser PARSER = UserDataParser.create();

    private ParseOutcome() {
    }

    /**
     * Checks the contract for {@code data}; throws an {@link AssertionError} saying what broke it.
     *
     * @return whether {@code data} made a plan
     */
    static boolean check(byte[] data) {
        TaskPlan plan;
        try {
            plan = PARSER.parse(data);
        } catch (UserDataException e) {
            located(e);
            return false;
        } catch (Throwable t) { // the point of the test: StackOverflowError, IllegalArgumentException, ...
            throw new AssertionError("parse threw " + t.getClass().getName() + " instead of a UserDataException", t);
        }
        if (plan.tasks().isEmpty() || plan.tasks().size() > UserDataParser.MAX_TASKS) {
            throw new AssertionError("a plan with " + plan.tasks().size() + " tasks");
        }
        List<String> names = new ArrayList<>();
        for (TaskSpec task : plan.tasks()) {
            if (names.contains(task.name())) {
                throw new AssertionError("two tasks named " + task.name());
            }
            names.add(task.name());
            usable(task);
        }
        return true;
    }

    private static void located(UserDataException e) {
        if (e.problems().isEmpty() || e.getMessage() == null || e.getMessage().isBlank()) {
            throw new AssertionError("a UserDataException that says nothing", e);
        }
        for (Problem p : e.problems()) {
            boolean whole = p.line() == 0 && p.column() == 0;
            boolean atColumn = p.line() >= 1 && p.column() >= 1;
            if (!whole && !atColumn) {
                throw new AssertionError("a problem that is neither located nor about the whole data: " + p, e);
            }
            if (p.message().isBlank() || p.message().contains("makes no task the agent can run")) {
                throw new AssertionError("the parser and the builder disagree: " + p, e);
            }
        }
    }

    private static void usable(TaskSpec task) {
        if (task.source() instanceof TaskSource.Remote remote) {
            remote.allUrls().forEach(ParseOutcome::fetchable);
            TaskPlan again = PARSER.parse(LineForm.render(task).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            if (!again.tasks().equals(List.of(task))) {
                throw new AssertionError("LineForm wrote " + LineForm.render(task) + ", which parses to "
                        + again.tasks() + ", not " + task);
            }
        }
        task.report().ifPresent(ParseOutcome::fetchable);
        task.signature().filter(sig -> sig instanceof Signature.Remote)
                .ifPresent(sig -> fetchable(((Signature.Remote) sig).url()));
    }

    private static void fetchable(URI u) {
        String scheme = u.getScheme().toLowerCase(Locale.ROOT);
        if (u.getRawUserInfo() != null || u.getRawFragment() != null) {
            throw new AssertionError("a URL with userinfo or a fragment: " + u);
        }
        if (scheme.equals("file")) {
            if (u.getRawAuthority() != null || u.getRawQuery() != null) {
                throw new AssertionError("a file: URL with a host or a query: " + u);
            }
            Path.of(u); // throws IllegalArgumentException as run would
            return;
        }
        if (scheme.equals("s3") || scheme.equals("gs")) {
            if (u.getRawAuthority() == null || u.getPort() != -1 || u.getRawPath().length() <= 1) {
                throw new AssertionError("a bucket URL without a bucket or an object, or with a port: " + u);
            }
            return;
        }
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new AssertionError("a URL the fetcher does not know: " + u);
        }
        if (u.getHost() == null || u.getPort() == 0 || u.getPort() > 65535 || u.getHost().contains("%")) {
            throw new AssertionError("a URL an HTTP client refuses: " + u);
        }
        URI.create(u + ".sig"); // the fetcher derives the signature's URL so
    }
}
