package dev.whatami.status;

import java.util.Objects;
import java.util.Optional;

/**
 * Who the instance is, as the metadata service said.
 *
 * @param instanceId the provider's instance id, 1-255 printable characters
 * @param provider   the provider's token, e.g. {@code ec2}, {@code gce}, {@code nocloud}
 * @param region     the region, where known
 * @param zone       the availability zone, where known
 */
public record InstanceInfo(String instanceId, String provider, Optional<String> region, Optional<String> zone) {
    public InstanceInfo {
        Objects.requireNonNull(instanceId, "instanceId");
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(zone, "zone");
        if (instanceId.isEmpty() || instanceId.length() > StatusLimits.MAX_ID) {
            throw new IllegalArgumentException("instanceId must be 1-" + StatusLimits.MAX_ID + " characters, got "
                    + instanceId.length());
        }
    }
}
