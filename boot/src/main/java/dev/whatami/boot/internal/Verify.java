package dev.whatami.boot.internal;

import dev.whatami.fetch.FetchResult;
import dev.whatami.status.Trust;
import dev.whatami.userdata.Redact;
import dev.whatami.userdata.TaskSource;
import dev.whatami.userdata.TaskSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Step 3 of a task: the trust policy beyond what the fetcher checks. With trusted keys configured a signature vouches
 * for the script's bytes only, so the user-data may not choose anything that changes how those bytes are read: no
 * {@code as=} (the signed {@code #!} line decides), and {@code env.*} only for names the image owner allowed and that
 * no interpreter or loader reads. Right before the script runs its bytes are hashed again and must be the ones
 * verified.
 */
final class Verify {
    private static final Logger LOG = LoggerFactory.getLogger(Verify.class);
    /** Read by interpreters, shells and the dynamic loader: never settable from user-data when keys are trusted. */
    private static final Pattern INTERPRETER_ENV = Pattern.compile("LD_.*|DYLD_.*|BASH_ENV|ENV|BASH_FUNC_.*|SHELLOPTS"
            + "|BASHOPTS|PS4|IFS|PATH|CDPATH|GLOBIGNORE|PERL5?OPT|PERL5?LIB|PERL5DB|PERLIO.*|PYTHON.*|RUBY.*|GEM_.*"
            + "|NODE_.*|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS|CLASSPATH|GCONV_PATH|LOCPATH|NLSPATH"
            + "|HOSTALIASES|RESOLV_.*|LOCALDOMAIN|MALLOC_.*|TMPDIR|HOME|SHELL|WHATAMI_.*");

    private final boolean keysTrusted;
    private final Set<String> allowedEnv;
    private final boolean manifestsOnly;

    Verify(boolean keysTrusted, Set<String> allowedEnv) {
        this(keysTrusted, allowedEnv, false);
    }

    /**
     * @param manifestsOnly vouching is by signed manifests alone (no trusted keys): a script carried in the user-data,
     *                      which no manifest can list, is refused whatever it carries
     */
    Verify(boolean keysTrusted, Set<String> allowedEnv, boolean manifestsOnly) {
        this.keysTrusted = keysTrusted;
        this.allowedEnv = allowedEnv;
        this.manifestsOnly = keysTrusted && manifestsOnly;
    }

    /** Before fetching: why the task may not run as written, or empty. */
    Optional<String> admit(TaskSpec task) {
        if (!keysTrusted) {
            return Optional.empty();
        }
        if (task.source() instanceof TaskSource.Inline && manifestsOnly) {
            return Optional.of("refused the script carried in the user-data (" + task.name() + "): a manifest root "
                    + "key is configured, and no manifest can list a script carried in the user-data; put it on the "
                    + "file server, list it in the manifest there (whatami-server manifest sign --dir DIR) and name "
                    + "its URL in the user-data");
        }
        if (task.source() instanceof TaskSource.Inline && task.signature().isEmpty()) {
            return Optional.of("refused the script carried in the user-data (" + task.name() + "): trusted keys are "
                    + "configured and it carries no signature; sign it (whatami-server sign) and put the signature "
                    + "on its second line (#whatami-signature: <base64>) or in its MIME part's X-Whatami-Signature "
                    + "header, or put it on the file server and name it in the user-data");
        }
        if (task.interpreter().isPresent()) {
            return Optional.of("refused " + task.name() + ": as=" + task.interpreter().get() + " would choose how the "
                    + "signed script is run, which its signature does not cover; with trusted keys the script's own "
                    + "#! line (signed with it) decides. Drop as= from its user-data line.");
        }
        for (String name : task.env().keySet()) {
            if (INTERPRETER_ENV.matcher(name).matches()) {
                return Optional.of("refused " + task.name() + ": env." + name + " changes how programs run (the "
                        + "dynamic loader, a shell or an interpreter reads it) and its signature does not cover it; "
                        + "it is never accepted from user-data while trusted keys are configured. Drop it.");
            }
            if (!allowed(name)) {
                return Optional.of("refused " + task.name() + ": env." + name + " is not covered by the script's "
                        + "signature and the image does not allow it; the image owner can allow it (allowEnv " + name
                        + "), or drop it from the user-data line.");
            }
        }
        return Optional.empty();
    }

    private boolean allowed(String name) {
        for (String a : allowedEnv) {
            if (a.endsWith("*") ? name.startsWith(a.substring(0, a.length() - 1)) : a.equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** After fetching, right before running: why the placed file may not run, or empty. */
    Optional<String> check(TaskSpec task, FetchResult fetched) {
        if (fetched.trust() == Trust.NONE) {
            LOG.warn("task {}: {} came over plain {} with neither a pin nor a signature; anyone on the network path "
                    + "could have changed it. Pin it: add sha256={} to its user-data line.", task.name(),
                    Redact.url(fetched.source()), fetched.source().getScheme(), fetched.sha256());
        }
        try {
            if (Files.isSymbolicLink(fetched.path()) || !Files.isRegularFile(fetched.path(), LinkOption.NOFOLLOW_LINKS)) {
                return Optional.of("refused " + task.name() + ": " + fetched.path() + " is no longer the regular file "
                        + "that was verified");
            }
            String now = sha256(fetched);
            if (!now.equals(fetched.sha256())) {
                return Optional.of("refused " + task.name() + ": " + fetched.path() + " changed after it was verified "
                        + "(sha256 " + now + ", verified " + fetched.sha256() + "); something else writes in the state "
                        + "directory");
            }
        } catch (IOException e) {
            return Optional.of("refused " + task.name() + ": cannot read " + fetched.path() + " again before running it ("
                    + e.getMessage() + ")");
        }
        return Optional.empty();
    }

    private static String sha256(FetchResult fetched) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = Files.newInputStream(fetched.path(), LinkOption.NOFOLLOW_LINKS)) {
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
