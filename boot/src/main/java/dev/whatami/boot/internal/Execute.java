package dev.whatami.boot.internal;

import dev.whatami.fetch.FetchResult;
import dev.whatami.run.RunRequest;
import dev.whatami.run.TaskResult;
import dev.whatami.run.TaskRunner;
import dev.whatami.status.InstanceInfo;
import dev.whatami.userdata.TaskSpec;
import java.util.LinkedHashMap;
import java.util.Map;

/** Step 4 of a task: run the verified script with its arguments and the {@code WHATAMI_*} environment. */
final class Execute {
    private final TaskRunner runner;
    private final InstanceInfo instance;

    Execute(TaskRunner runner, InstanceInfo instance) {
        this.runner = runner;
        this.instance = instance;
    }

    /** The task's environment: its {@code env.*}, then the agent's {@code WHATAMI_*}, which user-data cannot override. */
    Map<String, String> environment(TaskSpec task, int attempt) {
        Map<String, String> env = new LinkedHashMap<>(task.env());
        env.put("WHATAMI_INSTANCE_ID", instance.instanceId());
        env.put("WHATAMI_PROVIDER", instance.provider());
        env.put("WHATAMI_TASK", task.name());
        env.put("WHATAMI_SERVER", task.server().orElse(""));
        env.put("WHATAMI_ATTEMPT", Integer.toString(attempt));
        return env;
    }

    /**
     * @throws dev.whatami.run.TaskRunException when the script cannot be started (no interpreter)
     */
    TaskResult run(TaskSpec task, FetchResult script, int attempt) {
        return runner.run(RunRequest.builder(task.name(), script.path()).args(task.args())
                .environment(environment(task, attempt)).interpreter(task.interpreter()).timeout(task.timeout())
                .attempt(attempt).sha256(script.sha256()).build());
    }
}
