package dev.whatami.emulator;

import dev.whatami.emulator.internal.AzureService;
import dev.whatami.emulator.internal.CloudService;
import dev.whatami.emulator.internal.Ec2Service;
import dev.whatami.emulator.internal.FaultRules;
import dev.whatami.emulator.internal.GceService;
import dev.whatami.emulator.internal.Secrets;
import dev.whatami.emulator.internal.Settings;
import dev.whatami.emulator.internal.SmallClouds;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The emulated metadata services themselves, without a transport: a request goes in, an answer (with any injected
 * fault) comes out. {@link MetadataEmulator} serves it on loopback; the whatami server mounts it in Jetty; mount it
 * in another server by implementing {@link EmulatorExchange}.
 *
 * <pre>{@code
 * MetadataService service = MetadataService.builder().clouds(Cloud.EC2, Cloud.GCE)
 *         .userData("collector.pl 10.0.0.1").imdsV2Required(true).build();
 * try (MetadataEmulator imds = MetadataEmulator.start(service)) { ... }
 * }</pre>
 *
 * Thread-safe. {@link #close()} releases requests held by a fault ({@link Faults#hangNext}, delays, dribbles).
 */
public final class MetadataService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetadataService.class);
    private static final int MAX_RECORDED = 10_000;
    private static final byte[] FILLER = filler();

    private final Settings settings;
    private final Set<Cloud> clouds;
    private final List<CloudService> services = new ArrayList<>();
    private final Secrets secrets;
    private final FaultRules rules = new FaultRules();
    private final Faults faults = new Faults(rules, Optional.empty());
    private final List<EmulatorRequest> recorded = new ArrayList<>();
    private final CountDownLatch closed = new CountDownLatch(1);

    private MetadataService(Builder b) {
        this.settings = new Settings(b.userData, b.instanceId, b.region, b.zone, b.localIpv4, b.imdsV2Required,
                b.instanceIdPerClient, b.ec2Role, b.credentialsLifetime, b.gceServiceAccount, b.gceStartupScriptUrl,
                b.azureIdentity, b.tokenLifetime, b.clock);
        this.clouds = EnumSet.copyOf(b.clouds);
        this.secrets = new Secrets(settings);
        for (Cloud c : clouds) {
            services.add(switch (c) {
                case EC2 -> new Ec2Service(settings, secrets);
                case GCE -> new GceService(settings, secrets);
                case AZURE -> new AzureService(settings, secrets);
                case OCI -> SmallClouds.oci(settings);
                case DIGITALOCEAN -> SmallClouds.digitalOcean(settings);
                case HETZNER -> SmallClouds.hetzner(settings);
            });
        }
    }

    /** A builder with every setting at its default: EC2 only, no user-data, IMDSv2 optional. */
    public static Builder builder() {
        return new Builder();
    }

    /** The clouds this service plays. */
    public Set<Cloud> clouds() {
        return EnumSet.copyOf(clouds);
    }

    /** Whether {@code path} belongs to one of the clouds played (a server mounting the emulator leaves others alone). */
    public boolean handles(String path) {
        return services.stream().anyMatch(s -> s.owns(path));
    }

    /** The faults in force; change them at any time. */
    public Faults faults() {
        return faults;
    }

    /** Whether EC2 refuses requests without a session token. */
    public boolean imdsV2Required() {
        return settings.imdsV2Required();
    }

    /** The EC2 role's current credentials (what the next client will get); empty without a role. */
    public Optional<IssuedCredentials> ec2Credentials() {
        return secrets.credentials();
    }

    /** Makes new EC2 role credentials now, as EC2 does before the old ones expire; empty without a role. */
    public Optional<IssuedCredentials> rotateEc2Credentials() {
        return secrets.rotateCredentials();
    }

    /** The GCE service account's access token last handed out and not expired, if any. */
    public Optional<IssuedToken> gceAccessToken() {
        return settings.gceServiceAccount().flatMap(a -> secrets.currentAccessToken("gce:" + a));
    }

    /** The Azure managed identity's access token for {@code resource} last handed out and not expired, if any. */
    public Optional<IssuedToken> azureAccessToken(String resource) {
        return secrets.currentAccessToken("azure:" + resource);
    }

    /** Every request seen so far (the latest 10,000), oldest first. */
    public List<EmulatorRequest> requests() {
        synchronized (recorded) {
            return List.copyOf(recorded);
        }
    }

    /** How many requests with this method and path were seen. */
    public long requestCount(String method, String path) {
        return requests().stream().filter(r -> r.method().equals(method) && r.path().equals(path)).count();
    }

    /** Forgets the requests seen so far. */
    public void clearRequests() {
        synchronized (recorded) {
            recorded.clear();
        }
    }

    /** The answer to {@code request}, without faults. */
    public EmulatorAnswer answer(EmulatorRequest request) {
        for (CloudService s : services) {
            if (s.owns(request.path())) {
                return s.answer(request);
            }
        }
        return CloudService.htmlError(404);
    }

    /**
     * Answers {@code request} through {@code exchange}, applying the faults in force. Blocks for as long as a fault
     * says (a delay, a dribble, a hang), or until {@link #close()}. Never throws for what happens to the connection.
     */
    public void serve(EmulatorRequest request, EmulatorExchange exchange) {
        synchronized (recorded) {
            if (recorded.size() == MAX_RECORDED) {
                recorded.remove(0);
            }
            recorded.add(request);
        }
        FaultRules.Plan plan = rules.next(request.path());
        try {
            if (!plan.delay().isZero()) {
                LOG.debug("{}: injected delay {}", request, plan.delay());
                if (!pause(plan.delay())) {
                    exchange.abort();
                    return;
                }
            }
            FaultRules.Kind kind = plan.kind();
            if (kind == FaultRules.Kind.HANG) {
                LOG.debug("{}: injected hang", request);
                pause(null);
                exchange.abort();
                return;
            }
            EmulatorAnswer answer = kind == FaultRules.Kind.FAIL ? failure(plan) : answer(request);
            boolean head = request.method().equals("HEAD");
            LOG.debug("{} -> {}{}", request, answer.status(), kind == null ? ""
                    : " (injected " + kind.name().toLowerCase(java.util.Locale.ROOT) + ")");
            deliver(answer, kind, plan.duration(), head, exchange);
        } catch (IOException | RuntimeException e) {
            // the client went away, or the emulator stopped: nothing to tell anyone above debug
            LOG.debug("{}: connection ended: {}", request, e.toString());
            exchange.abort();
        }
    }

    private static EmulatorAnswer failure(FaultRules.Plan plan) {
        EmulatorAnswer a = CloudService.htmlError(plan.status());
        if (plan.duration() != null) {
            long seconds = (plan.duration().toMillis() + 999) / 1000;
            a = a.with("Retry-After", Long.toString(seconds));
        }
        return a;
    }

    private void deliver(EmulatorAnswer a, FaultRules.Kind kind, Duration interval, boolean head,
                         EmulatorExchange exchange) throws IOException {
        byte[] body = a.body();
        if (kind == FaultRules.Kind.ENDLESS) {
            exchange.sendHead(a.status(), a.headers(), -1);
            OutputStream out = exchange.body();
            out.write(body);
            while (closed.getCount() > 0) {
                out.write(FILLER);
                out.flush();
            }
            exchange.abort();
            return;
        }
        exchange.sendHead(a.status(), a.headers(), body.length);
        OutputStream out = exchange.body();
        if (head) {
            out.close();
            return;
        }
        if (kind == FaultRules.Kind.DROP) {
            out.write(body, 0, body.length / 2);
            out.flush();
            exchange.abort();
            return;
        }
        if (kind == FaultRules.Kind.DRIBBLE) {
            for (byte b : body) {
                out.write(b);
                out.flush();
                if (!pause(interval)) {
                    exchange.abort();
                    return;
                }
            }
            out.close();
            return;
        }
        out.write(body);
        out.close();
    }

    /** Waits {@code d} (null: until closed); false when the service closed meanwhile. */
    private boolean pause(Duration d) {
        try {
            if (d == null) {
                closed.await();
                return false;
            }
            return !closed.await(d.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Releases every request a fault holds; later requests are still answered. */
    @Override
    public void close() {
        closed.countDown();
    }

    private static byte[] filler() {
        byte[] b = new byte[8192];
        Arrays.fill(b, (byte) 'x');
        return b;
    }

    /** Starts a {@link MetadataEmulator} serving {@code this} on an ephemeral port of 127.0.0.1. */
    public MetadataEmulator start() {
        return MetadataEmulator.start(this);
    }

    /** Builds a {@link MetadataService}. Not thread-safe. */
    public static final class Builder {
        private Set<Cloud> clouds = EnumSet.of(Cloud.EC2);
        private Optional<byte[]> userData = Optional.empty();
        private Optional<String> instanceId = Optional.empty();
        private Optional<String> region = Optional.empty();
        private Optional<String> zone = Optional.empty();
        private String localIpv4 = "127.0.0.1";
        private boolean imdsV2Required;
        private boolean instanceIdPerClient;
        private Optional<String> ec2Role = Optional.empty();
        private Duration credentialsLifetime = Duration.ofHours(6);
        private Optional<String> gceServiceAccount = Optional.empty();
        private Optional<String> gceStartupScriptUrl = Optional.empty();
        private boolean azureIdentity;
        private Duration tokenLifetime = Duration.ofHours(1);
        private Clock clock = Clock.systemUTC();

        private Builder() {
        }

        /** The clouds to play, each on its own paths. Default: {@link Cloud#EC2} only. */
        public Builder clouds(Cloud... clouds) {
            if (clouds.length == 0) {
                throw new IllegalArgumentException("give at least one cloud to clouds(...)");
            }
            this.clouds = EnumSet.copyOf(Arrays.asList(clouds));
            return this;
        }

        /**
         * The user-data every cloud serves (EC2 as is, Azure and OCI base64-encoded, as they do). Default: none —
         * EC2 and DigitalOcean answer 404, GCE has no {@code user-data} attribute, Azure an empty {@code userData}.
         */
        public Builder userData(byte[] userData) {
            this.userData = Optional.of(Objects.requireNonNull(userData, "userData").clone());
            return this;
        }

        /** The user-data as UTF-8 text. */
        public Builder userData(String userData) {
            return userData(Objects.requireNonNull(userData, "userData").getBytes(StandardCharsets.UTF_8));
        }

        /** No user-data (the default). */
        public Builder noUserData() {
            this.userData = Optional.empty();
            return this;
        }

        /**
         * The instance id every cloud reports. Default: each cloud's example id ({@code i-0123456789abcdef0} on EC2,
         * {@code 4520031799277581759} on GCE, a vmId on Azure, an OCID on OCI, {@code 3164494}, {@code 42}).
         */
        public Builder instanceId(String id) {
            if (id == null || id.isBlank() || !id.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                throw new IllegalArgumentException("instance id must be printable ASCII without spaces, got \"" + id
                        + "\"");
            }
            this.instanceId = Optional.of(id);
            return this;
        }

        /**
         * The region every cloud reports. Default: each cloud's own example ({@code us-east-1} on EC2, or the
         * {@link #availabilityZone} without its last letter).
         */
        public Builder region(String region) {
            this.region = Optional.of(Objects.requireNonNull(region, "region"));
            return this;
        }

        /** The zone every cloud reports. Default: each cloud's own example ({@code us-east-1a} on EC2). */
        public Builder availabilityZone(String zone) {
            this.zone = Optional.of(Objects.requireNonNull(zone, "zone"));
            return this;
        }

        /** The instance's private IPv4 address. Default: {@code 127.0.0.1}. */
        public Builder localIpv4(String ip) {
            this.localIpv4 = Objects.requireNonNull(ip, "localIpv4");
            return this;
        }

        /** EC2 refuses requests without a session token (401), as an instance with IMDSv2 required. Default: false. */
        public Builder imdsV2Required(boolean required) {
            this.imdsV2Required = required;
            return this;
        }

        /**
         * EC2 gives each client address its own instance id ({@code <id>-<address>}) at
         * {@code meta-data/instance-id}, so one emulator can stand for a fleet. Default: false.
         */
        public Builder instanceIdPerClient(boolean perClient) {
            this.instanceIdPerClient = perClient;
            return this;
        }

        /**
         * Attach an IAM role: EC2 lists it at {@code iam/security-credentials/} and hands out temporary credentials
         * at {@code iam/security-credentials/<role>}. Default: none (those paths answer 404).
         */
        public Builder ec2Role(String roleName) {
            if (roleName == null || !roleName.matches("[\\w+=,.@-]{1,64}")) {
                throw new IllegalArgumentException("an IAM role name has 1 to 64 of A-Z a-z 0-9 + = , . @ _ -; got "
                        + roleName);
            }
            this.ec2Role = Optional.of(roleName);
            return this;
        }

        /**
         * How long EC2 role credentials last from when they are made; new ones (with a later {@code Expiration}) are
         * made once a quarter of this, at most 5 minutes, is left. Default: 6 h.
         */
        public Builder credentialsLifetime(Duration lifetime) {
            this.credentialsLifetime = positive(lifetime, "credentialsLifetime");
            return this;
        }

        /**
         * Give the GCE instance a service account: {@code instance/service-accounts/default/token} hands out access
         * tokens. Default: none (404 there).
         */
        public Builder gceServiceAccount(String email) {
            this.gceServiceAccount = Optional.of(Objects.requireNonNull(email, "email"));
            return this;
        }

        /** GCE's {@code startup-script-url} attribute. Default: none. */
        public Builder gceStartupScriptUrl(String url) {
            this.gceStartupScriptUrl = Optional.of(Objects.requireNonNull(url, "url"));
            return this;
        }

        /**
         * Assign the Azure VM a managed identity: {@code /metadata/identity/oauth2/token} hands out tokens for any
         * resource. Default: none (400 "Identity not found").
         */
        public Builder azureManagedIdentity(boolean assigned) {
            this.azureIdentity = assigned;
            return this;
        }

        /** How long GCE and Azure access tokens last; renewed like role credentials. Default: 1 h. */
        public Builder accessTokenLifetime(Duration lifetime) {
            this.tokenLifetime = positive(lifetime, "accessTokenLifetime");
            return this;
        }

        /** Time for token, credential and session expiry (fault delays are real time). Default: system UTC. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** The service, not yet served anywhere. */
        public MetadataService build() {
            return new MetadataService(this);
        }

        /** Builds the service and serves it on an ephemeral port of 127.0.0.1; close the emulator to stop it. */
        public MetadataEmulator start() {
            return MetadataEmulator.start(build());
        }

        private static Duration positive(Duration d, String name) {
            if (Objects.requireNonNull(d, name).isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + d);
            }
            return d;
        }
    }
}
