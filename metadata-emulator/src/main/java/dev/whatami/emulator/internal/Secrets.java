package dev.whatami.emulator.internal;

import dev.whatami.emulator.IssuedCredentials;
import dev.whatami.emulator.IssuedToken;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Everything the emulator hands out that expires: IMDSv2 session tokens, the EC2 role's credentials, GCE and Azure
 * access tokens. Credentials and tokens are renewed, with a later expiry, once less than a quarter of their lifetime
 * (at most 5 minutes) is left, as EC2 makes new role credentials available before the old ones expire. Thread-safe.
 */
public final class Secrets {
    private static final char[] KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();

    private final Settings settings;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Instant> sessionTokens = new HashMap<>();
    private IssuedCredentials credentials;
    private final Map<String, IssuedToken> accessTokens = new HashMap<>();

    public Secrets(Settings settings) {
        this.settings = settings;
        random.nextBytes(new byte[1]); // seed now, not in the first token request: a client's timeout is counting
    }

    private Instant now() {
        return settings.clock().instant();
    }

    /** A new IMDSv2 token valid for {@code ttlSeconds}. */
    public synchronized String newSessionToken(int ttlSeconds) {
        Instant now = now();
        sessionTokens.values().removeIf(exp -> !now.isBefore(exp));
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(40));
        sessionTokens.put(token, now.plusSeconds(ttlSeconds));
        return token;
    }

    /** Seconds the token has left, or empty when it is unknown or expired. */
    public synchronized Optional<Long> sessionTokenSecondsLeft(String token) {
        Instant exp = sessionTokens.get(token);
        Instant now = now();
        if (exp == null || !now.isBefore(exp)) {
            return Optional.empty();
        }
        return Optional.of(Math.max(1, Duration.between(now, exp).getSeconds()));
    }

    /** The role's current credentials, renewed when due; empty without a role. */
    public synchronized Optional<IssuedCredentials> credentials() {
        if (settings.ec2Role().isEmpty()) {
            return Optional.empty();
        }
        if (credentials == null || due(credentials.expiration(), settings.credentialsLifetime())) {
            rotateCredentials();
        }
        return Optional.of(credentials);
    }

    /** Replaces the role's credentials with new ones now. */
    public synchronized Optional<IssuedCredentials> rotateCredentials() {
        if (settings.ec2Role().isEmpty()) {
            return Optional.empty();
        }
        credentials = new IssuedCredentials(settings.ec2Role().get(), "ASIA" + key(16),
                Base64.getEncoder().encodeToString(bytes(30)), Base64.getEncoder().encodeToString(bytes(96)),
                seconds(now().plus(settings.credentialsLifetime())));
        return Optional.of(credentials);
    }

    /** The access token for {@code audience}, renewed when due. */
    public synchronized IssuedToken accessToken(String audience, String prefix) {
        IssuedToken t = accessTokens.get(audience);
        if (t == null || due(t.expiration(), settings.tokenLifetime())) {
            t = new IssuedToken(prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(48)), audience,
                    seconds(now().plus(settings.tokenLifetime())));
            accessTokens.put(audience, t);
        }
        return t;
    }

    /** The current access token for {@code audience}, if one was handed out and has not expired. */
    public synchronized Optional<IssuedToken> currentAccessToken(String audience) {
        IssuedToken t = accessTokens.get(audience);
        return t == null || !now().isBefore(t.expiration()) ? Optional.empty() : Optional.of(t);
    }

    private boolean due(Instant expiration, Duration lifetime) {
        Duration margin = lifetime.dividedBy(4);
        if (margin.compareTo(Duration.ofMinutes(5)) > 0) {
            margin = Duration.ofMinutes(5);
        }
        return !now().isBefore(expiration.minus(margin));
    }

    private static Instant seconds(Instant t) {
        return Instant.ofEpochSecond(t.getEpochSecond());
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private String key(int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(KEY_CHARS[random.nextInt(KEY_CHARS.length)]);
        }
        return sb.toString();
    }
}
