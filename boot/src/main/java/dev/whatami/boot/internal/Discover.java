package dev.whatami.boot.internal;

import dev.whatami.metadata.InstanceIdentity;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.status.InstanceInfo;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The boot's first step: who am I, and what does my user-data say? Errors propagate as the metadata client's own. */
final class Discover {
    private static final Logger LOG = LoggerFactory.getLogger(Discover.class);

    /**
     * @param identity who the instance is
     * @param userData its user-data; empty when the provider says there is none
     */
    record Found(InstanceInfo identity, Optional<byte[]> userData) {
    }

    private final MetadataClient metadata;

    Discover(MetadataClient metadata) {
        this.metadata = metadata;
    }

    Found ask() {
        InstanceIdentity id = metadata.identity();
        InstanceInfo info = new InstanceInfo(id.instanceId(), id.provider().token(), id.region(), id.zone());
        LOG.info("instance {} on {}", id.instanceId(), id.provider().token());
        return new Found(info, metadata.userData());
    }

    /** Where inline scripts came from, for the status: {@code user-data:<provider>}. */
    String userDataSource() {
        return "user-data:" + metadata.provider().token();
    }
}
