package dev.whatami.status;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.jr.ob.JSON;
import dev.whatami.userdata.Frequency;
import dev.whatami.userdata.Problem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * The one place where the status document's JSON is spelled: {@code status.json}, {@code whatami-agent status --json},
 * the phone-home report body, the server's stored reports and its {@code /status.json} all go through here. Writes
 * version 2 (see {@code docs/status.md}); reads version 2 and the version-1 files written before it (no
 * {@code version} field; {@code fetch-failed} task states). Unknown fields are ignored, so older readers accept newer
 * writers. Reading validates every field's type and bounds: a report from a stranger that is not a status document is
 * refused with a {@link StatusFormatException} naming the field. Stateless and thread-safe.
 */
public final class StatusCodec {
    /** The version this codec writes. */
    public static final int VERSION = 2;
    /** Largest document {@link #read} accepts, in bytes. */
    public static final int MAX_BYTES = 256 * 1024;

    private static final JSON WRITER = JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT)
            .without(JSON.Feature.WRITE_NULL_PROPERTIES);
    private static final JSON READER = JSON.std.with(JSON.Feature.FAIL_ON_DUPLICATE_MAP_KEYS);

    private StatusCodec() {
    }

    /** The codec. */
    public static StatusCodec create() {
        return new StatusCodec();
    }

    /** The document as pretty-printed UTF-8 JSON ending in a newline. */
    public byte[] write(RunStatus status) {
        return bytes(toMap(status));
    }

    /** One task's record, as the agent keeps it beside the task's script ({@code result.json}). */
    public byte[] write(TaskStatus task) {
        return bytes(toMap(task));
    }

    /** Reads a task's record written by {@link #write(TaskStatus)}. */
    public TaskStatus readTask(byte[] json) {
        return task(parse(json), "");
    }

    /** A received report: the document with {@code receivedAt} and {@code from} after it. */
    public byte[] write(ReceivedReport report) {
        return bytes(toMap(report));
    }

    /**
     * Reads a document.
     *
     * @throws StatusFormatException when it is not one, naming the field that is wrong
     */
    public RunStatus read(byte[] json) {
        return fromMap(parse(json));
    }

    /** Reads a report as a server stored it ({@link #write(ReceivedReport)}). */
    public ReceivedReport readReceived(byte[] json) {
        Map<String, Object> m = parse(json);
        return new ReceivedReport(fromMap(m), requiredInstant(m, "receivedAt", ""), requiredString(m, "from", "",
                StatusLimits.MAX_TEXT));
    }

    /** The document as JSON-ready maps and lists, for embedding in a larger JSON answer. */
    public Map<String, Object> toMap(RunStatus s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", VERSION);
        s.runId().ifPresent(v -> m.put("runId", v));
        m.put("revision", s.revision());
        m.put("state", s.state().token());
        s.exitCode().ifPresent(c -> {
            m.put("exitCode", c);
            m.put("result", result(c));
        });
        s.message().ifPresent(v -> m.put("message", v));
        s.startedAt().ifPresent(v -> m.put("startedAt", v.toString()));
        s.finishedAt().ifPresent(v -> m.put("finishedAt", v.toString()));
        s.pid().ifPresent(v -> m.put("pid", v));
        s.bootId().ifPresent(v -> m.put("bootId", v));
        s.instance().ifPresent(i -> {
            m.put("instanceId", i.instanceId());
            m.put("provider", i.provider());
            i.region().ifPresent(v -> m.put("region", v));
            i.zone().ifPresent(v -> m.put("zone", v));
        });
        if (!s.problems().isEmpty()) {
            List<Object> problems = new ArrayList<>();
            s.problems().forEach(p -> problems.add(toMap(p)));
            m.put("problems", problems);
        }
        List<Object> tasks = new ArrayList<>();
        s.tasks().forEach(t -> tasks.add(toMap(t)));
        m.put("tasks", tasks);
        return m;
    }

    /** A received report as JSON-ready maps: the document, then {@code receivedAt} and {@code from}. */
    public Map<String, Object> toMap(ReceivedReport r) {
        Map<String, Object> m = toMap(r.status());
        m.put("receivedAt", r.receivedAt().toString());
        m.put("from", r.from());
        return m;
    }

    private static Map<String, Object> toMap(TaskStatus t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", t.name());
        t.identity().ifPresent(v -> m.put("identity", v));
        m.put("frequency", t.frequency().token());
        m.put("state", t.state().token());
        if (t.attempt() > 0) {
            m.put("attempt", t.attempt());
        }
        t.message().ifPresent(v -> m.put("message", v));
        t.source().ifPresent(v -> m.put("source", v));
        t.sha256().ifPresent(v -> m.put("sha256", v));
        t.size().ifPresent(v -> m.put("size", v));
        t.trust().ifPresent(v -> m.put("trust", v.token()));
        t.exitCode().ifPresent(v -> {
            m.put("exitCode", v);
            m.put("timedOut", t.timedOut());
        });
        t.startedAt().ifPresent(v -> m.put("start", v.toString()));
        t.endedAt().ifPresent(v -> m.put("end", v.toString()));
        t.stdoutLog().ifPresent(v -> m.put("stdout", v));
        t.stderrLog().ifPresent(v -> m.put("stderr", v));
        t.tail().filter(x -> !x.isEmpty()).ifPresent(x -> {
            Map<String, Object> tail = new LinkedHashMap<>();
            tail.put("stdout", x.stdout());
            tail.put("stderr", x.stderr());
            m.put("tail", tail);
        });
        t.firstFailure().ifPresent(e -> m.put("firstFailure", eventMap(e)));
        if (!t.history().isEmpty()) {
            List<Object> history = new ArrayList<>();
            t.history().forEach(e -> history.add(eventMap(e)));
            m.put("history", history);
        }
        return m;
    }

    /**
     * One user-data problem as JSON-ready maps ({@code line}, {@code column}, {@code text}, {@code message}), as the
     * document's {@code problems} and {@code whatami-agent check --json} spell it.
     */
    public Map<String, Object> toMap(Problem p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("line", p.line());
        m.put("column", p.column());
        m.put("text", p.text());
        m.put("message", p.message());
        return m;
    }

    /** One task event as JSON-ready maps, as the ledger keeps its history. */
    public Map<String, Object> toMap(TaskEvent e) {
        return eventMap(e);
    }

    /**
     * One task event from JSON-ready maps.
     *
     * @throws StatusFormatException naming the field that is wrong
     */
    public TaskEvent event(Map<String, Object> m) {
        return event(m, "");
    }

    private static Map<String, Object> eventMap(TaskEvent e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("at", e.at().toString());
        m.put("outcome", e.outcome().token());
        m.put("attempt", e.attempt());
        e.exitCode().ifPresent(v -> m.put("exitCode", v));
        e.message().ifPresent(v -> m.put("message", v));
        return m;
    }

    /** The document from JSON-ready maps ({@link #toMap(RunStatus)}, or a parsed JSON object). */
    public RunStatus fromMap(Map<String, Object> m) {
        RunState state = RunState.fromToken(requiredString(m, "state", "", 32)).orElseThrow(() -> bad("state",
                "must be one of running, done, failed, invalid, unreachable, not-fetched, refused, interrupted"));
        RunStatus.Builder b = RunStatus.builder(state);
        optionalString(m, "runId", "", StatusLimits.MAX_ID).ifPresent(b::runId);
        b.revision(optionalLong(m, "revision", "").orElse(0));
        OptionalInt exit = optionalInt(m, "exitCode", "");
        b.exitCode(exit);
        optionalString(m, "message", "", Integer.MAX_VALUE).ifPresent(b::message);
        optionalInstant(m, "startedAt", "").ifPresent(b::startedAt);
        optionalInstant(m, "finishedAt", "").ifPresent(b::finishedAt);
        b.pid(optionalLong(m, "pid", ""));
        optionalString(m, "bootId", "", 128).ifPresent(b::bootId);
        Optional<String> id = optionalString(m, "instanceId", "", StatusLimits.MAX_ID);
        if (id.isPresent()) {
            b.instance(construct("instanceId", () -> new InstanceInfo(id.get(),
                    optionalString(m, "provider", "", 64).orElse("unknown"),
                    optionalString(m, "region", "", StatusLimits.MAX_ID),
                    optionalString(m, "zone", "", StatusLimits.MAX_ID))));
        }
        List<Problem> problems = new ArrayList<>();
        List<Map<String, Object>> raw = objects(m, "problems", "", StatusLimits.MAX_PROBLEMS);
        for (int i = 0; i < raw.size(); i++) {
            Map<String, Object> p = raw.get(i);
            String at = "problems[" + i + "].";
            problems.add(new Problem(optionalInt(p, "line", at).orElse(0), optionalInt(p, "column", at).orElse(0),
                    clip(optionalString(p, "text", at, Integer.MAX_VALUE).orElse(""), StatusLimits.MAX_TEXT),
                    clip(requiredString(p, "message", at, Integer.MAX_VALUE), StatusLimits.MAX_MESSAGE)));
        }
        b.problems(problems);
        List<TaskStatus> tasks = new ArrayList<>();
        List<Map<String, Object>> rawTasks = objects(m, "tasks", "", StatusLimits.MAX_TASKS);
        for (int i = 0; i < rawTasks.size(); i++) {
            tasks.add(task(rawTasks.get(i), "tasks[" + i + "]."));
        }
        return b.tasks(tasks).build();
    }

    private static TaskStatus task(Map<String, Object> m, String at) {
        String name = requiredString(m, "name", at, StatusLimits.MAX_ID);
        // a version-1 record without a state was written when the task started and not finished since
        TaskState state = optionalString(m, "state", at, 32).map(s -> TaskState.fromToken(s).orElseThrow(() ->
                bad(at + "state", "must be one of running, succeeded, skipped, failed, timed-out, not-fetched, "
                        + "refused, not-run"))).orElse(TaskState.RUNNING);
        TaskStatus.Builder b = TaskStatus.builder(name, state);
        optionalString(m, "identity", at, 128).ifPresent(b::identity);
        optionalString(m, "frequency", at, 32).ifPresent(f -> b.frequency(Frequency.fromToken(f).orElseThrow(() ->
                bad(at + "frequency", "must be one of per-instance, per-boot, once, always"))));
        OptionalInt attempt = optionalInt(m, "attempt", at);
        if (attempt.isPresent() && attempt.getAsInt() < 0) {
            throw bad(at + "attempt", "must be >= 0");
        }
        b.attempt(attempt.orElse(0));
        optionalString(m, "message", at, Integer.MAX_VALUE).ifPresent(b::message);
        optionalString(m, "source", at, StatusLimits.MAX_TEXT * 4).ifPresent(b::source);
        optionalString(m, "sha256", at, 64).ifPresent(b::sha256);
        optionalLong(m, "size", at).ifPresent(b::size);
        optionalString(m, "trust", at, 32).ifPresent(t -> b.trust(Trust.fromToken(t).orElseThrow(() ->
                bad(at + "trust", "must be one of signature, pin, user-data, https, none"))));
        optionalInt(m, "exitCode", at).ifPresent(b::exitCode);
        if (state == TaskState.FAILED && Boolean.TRUE.equals(m.get("timedOut"))) {
            b.state(TaskState.TIMED_OUT);
        }
        optionalInstant(m, "start", at).ifPresent(b::startedAt);
        optionalInstant(m, "end", at).ifPresent(b::endedAt);
        Optional<String> out = optionalString(m, "stdout", at, 4096);
        Optional<String> err = optionalString(m, "stderr", at, 4096);
        if (out.isPresent() || err.isPresent()) {
            b.logs(out.orElse(""), err.orElse(""));
        }
        Object tail = m.get("tail");
        if (tail != null) {
            if (!(tail instanceof Map<?, ?> tm)) {
                throw bad(at + "tail", "must be an object with stdout and stderr line arrays");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> t = (Map<String, Object>) tm;
            b.tail(construct(at + "tail", () -> new OutputTail(lines(t, "stdout", at + "tail."),
                    lines(t, "stderr", at + "tail."))));
        }
        Object first = m.get("firstFailure");
        if (first != null) {
            if (!(first instanceof Map<?, ?>)) {
                throw bad(at + "firstFailure", "must be an object");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> f = (Map<String, Object>) first;
            b.firstFailure(Optional.of(event(f, at + "firstFailure.")));
        }
        List<TaskEvent> history = new ArrayList<>();
        List<Map<String, Object>> raw = objects(m, "history", at, 1000);
        for (int i = 0; i < raw.size(); i++) {
            history.add(event(raw.get(i), at + "history[" + i + "]."));
        }
        b.history(history);
        return construct(at.isEmpty() ? "task" : at.substring(0, at.length() - 1), b::build);
    }

    private static TaskEvent event(Map<String, Object> m, String at) {
        TaskState outcome = TaskState.fromToken(requiredString(m, "outcome", at, 32)).orElseThrow(() ->
                bad(at + "outcome", "must be a task state such as failed or not-fetched"));
        return construct(at, () -> new TaskEvent(requiredInstant(m, "at", at), outcome,
                optionalInt(m, "attempt", at).orElse(0), optionalInt(m, "exitCode", at),
                optionalString(m, "message", at, Integer.MAX_VALUE)));
    }

    private static List<String> lines(Map<String, Object> m, String key, String at) {
        Object v = m.get(key);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list) || list.size() > OutputTail.MAX_LINES) {
            throw bad(at + key, "must be an array of at most " + OutputTail.MAX_LINES + " strings");
        }
        List<String> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof String s)) {
                throw bad(at + key, "must hold strings only");
            }
            out.add(StatusLimits.clip(s, OutputTail.MAX_LINE));
        }
        return out;
    }

    private static String result(int exitCode) {
        return switch (exitCode) {
            case 0 -> "ok";
            case 1 -> "task-failed";
            case 2 -> "user-data-invalid";
            case 3 -> "metadata-unreachable";
            case 4 -> "fetch-failed";
            default -> "exit-" + exitCode;
        };
    }

    private static byte[] bytes(Map<String, Object> m) {
        try {
            return (WRITER.asString(m) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot render the status document: " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> parse(byte[] json) {
        if (json.length > MAX_BYTES) {
            throw new StatusFormatException("the status document is " + json.length + " bytes; at most " + MAX_BYTES);
        }
        try (JsonParser p = READER.getStreamingFactory().createParser(json)) {
            Object value = READER.anyFrom(p);
            if (p.nextToken() != null) {
                throw new StatusFormatException("the status document has more after its JSON object (at byte "
                        + p.currentTokenLocation().getByteOffset() + "); send exactly one object");
            }
            if (!(value instanceof Map<?, ?> map)) {
                throw new StatusFormatException("the status document must be a JSON object, got "
                        + (value == null ? "nothing" : value instanceof List ? "an array" : "a " + kind(value)));
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) map;
            return m;
        } catch (IOException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
            throw new StatusFormatException("the status document is not valid JSON: " + why, e);
        }
    }

    private static String requiredString(Map<String, Object> m, String key, String at, int max) {
        return optionalString(m, key, at, max).orElseThrow(() -> bad(at + key, "is missing; it must be a string"));
    }

    private static Optional<String> optionalString(Map<String, Object> m, String key, String at, int max) {
        Object v = m.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (!(v instanceof String s)) {
            throw bad(at + key, "must be a string, got a " + kind(v));
        }
        if (s.length() > max) {
            if (max >= StatusLimits.MAX_TEXT) {
                return Optional.of(StatusLimits.clip(s, max));
            }
            throw bad(at + key, "must be at most " + max + " characters, got " + s.length());
        }
        return Optional.of(s);
    }

    private static OptionalLong optionalLong(Map<String, Object> m, String key, String at) {
        Object v = m.get(key);
        if (v == null) {
            return OptionalLong.empty();
        }
        if (!(v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte)) {
            throw bad(at + key, "must be a whole number, got a " + kind(v));
        }
        return OptionalLong.of(((Number) v).longValue());
    }

    private static OptionalInt optionalInt(Map<String, Object> m, String key, String at) {
        OptionalLong v = optionalLong(m, key, at);
        if (v.isEmpty()) {
            return OptionalInt.empty();
        }
        if (v.getAsLong() < Integer.MIN_VALUE || v.getAsLong() > Integer.MAX_VALUE) {
            throw bad(at + key, "is out of range");
        }
        return OptionalInt.of((int) v.getAsLong());
    }

    private static Optional<Instant> optionalInstant(Map<String, Object> m, String key, String at) {
        Optional<String> s = optionalString(m, key, at, 64);
        try {
            return s.map(Instants::parse);
        } catch (DateTimeParseException e) {
            throw bad(at + key, "must be an ISO-8601 UTC time such as 2026-12-02T10:15:30Z");
        }
    }

    private static Instant requiredInstant(Map<String, Object> m, String key, String at) {
        return optionalInstant(m, key, at).orElseThrow(() -> bad(at + key, "is missing; it must be a time"));
    }

    private static List<Map<String, Object>> objects(Map<String, Object> m, String key, String at, int max) {
        Object v = m.get(key);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list)) {
            throw bad(at + key, "must be an array, got a " + kind(v));
        }
        if (list.size() > max) {
            throw bad(at + key, "holds " + list.size() + " entries; at most " + max);
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Map<?, ?> entry)) {
                throw bad(at + key + "[" + i + "]", "must be an object");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> e = (Map<String, Object>) entry;
            out.add(e);
        }
        return out;
    }

    private static String clip(String s, int max) {
        return StatusLimits.clip(s, max);
    }

    private interface Maker<T> {
        T make();
    }

    private static <T> T construct(String field, Maker<T> maker) {
        try {
            return maker.make();
        } catch (IllegalArgumentException e) {
            throw bad(field, e.getMessage());
        }
    }

    private static String kind(Object v) {
        return v instanceof String ? "string" : v instanceof Number ? "number" : v instanceof Boolean ? "boolean"
                : v instanceof List ? "array" : v instanceof Map ? "object" : v.getClass().getSimpleName();
    }

    private static StatusFormatException bad(String field, String what) {
        return new StatusFormatException("status document: " + field + " " + what);
    }
}
