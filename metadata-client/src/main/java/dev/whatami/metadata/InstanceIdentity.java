package dev.whatami.metadata;

import java.util.Objects;
import java.util.Optional;

/**
 * Who this instance is.
 *
 * @param instanceId the provider's instance id, e.g. {@code i-0123456789abcdef0}
 * @param provider   the provider that answered
 * @param region     the region, where the provider says
 * @param zone       the availability zone, where the provider says
 */
public record InstanceIdentity(String instanceId, Provider provider, Optional<String> region, Optional<String> zone) {
    public InstanceIdentity {
        Objects.requireNonNull(instanceId, "instanceId");
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(zone, "zone");
        if (instanceId.isBlank()) {
            throw new IllegalArgumentException("instanceId must not be blank");
        }
    }
}
