package dev.whatami.metadata;

import java.util.Locale;
import java.util.Optional;

/** Where instance identity and user-data come from. */
public enum Provider {
    /** EC2 and everything that speaks its metadata API (Eucalyptus, OpenStack, the whatami server's emulator). */
    EC2("ec2"),
    /** Google Compute Engine: {@code Metadata-Flavor: Google}; user-data attribute, else {@code startup-script-url}. */
    GCE("gce"),
    /** Azure IMDS: {@code Metadata: true}; base64 {@code userData}. */
    AZURE("azure"),
    /** Oracle Cloud: {@code /opc/v2/}, {@code Authorization: Bearer Oracle}; base64 {@code user_data}. */
    OCI("oci"),
    /** DigitalOcean droplet metadata: {@code /metadata/v1/}. */
    DIGITALOCEAN("digitalocean"),
    /** Hetzner Cloud: {@code /hetzner/v1/}. */
    HETZNER("hetzner"),
    /** A local seed: a directory with {@code user-data} and {@code meta-data}, or a single user-data file. */
    NOCLOUD("nocloud");

    private final String token;

    Provider(String token) {
        this.token = token;
    }

    /** The command-line and JSON spelling, e.g. {@code ec2}. */
    public String token() {
        return token;
    }

    /** The provider spelled {@code token}, ignoring case. */
    public static Optional<Provider> fromToken(String token) {
        String t = token.toLowerCase(Locale.ROOT);
        for (Provider p : values()) { // a loop, not a stream: the first stream of a boot costs ~8 ms
            if (p.token.equals(t)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }
}
