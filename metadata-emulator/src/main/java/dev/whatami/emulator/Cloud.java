package dev.whatami.emulator;

/**
 * The metadata services the emulator can play. Each answers on its own paths, so one emulator may play several at
 * once (as one port on 169.254.169.254 would, were an instance on every cloud at the same time).
 */
public enum Cloud {
    /** EC2's IMDS: {@code /latest/…}, IMDSv2 session tokens, IAM role credentials. */
    EC2,
    /** Google Compute Engine: {@code /computeMetadata/v1/…}, {@code Metadata-Flavor: Google}. */
    GCE,
    /** Azure IMDS: {@code /metadata/instance…} and {@code /metadata/identity/…}, {@code Metadata: true}. */
    AZURE,
    /** Oracle Cloud: {@code /opc/v2/…}, {@code Authorization: Bearer Oracle}. */
    OCI,
    /** DigitalOcean droplet metadata: {@code /metadata/v1/…}. */
    DIGITALOCEAN,
    /** Hetzner Cloud: {@code /hetzner/v1/…}. */
    HETZNER
}
