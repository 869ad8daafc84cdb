package dev.whatami.metadata.internal;

import dev.whatami.metadata.InstanceIdentity;
import dev.whatami.metadata.MetadataClient;
import dev.whatami.metadata.MetadataException.Reason;
import dev.whatami.metadata.MetadataUnreachableException;
import dev.whatami.metadata.Provider;
import dev.whatami.metadata.UserDataTooLargeException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A local seed, as cloud-init's NoCloud: a directory holding {@code user-data} and {@code meta-data}
 * ({@code instance-id: …} lines), or a single user-data file with an optional {@code meta-data} beside it.
 */
final class NoCloudProvider implements DefaultMetadataClient.ProviderClient {
    /** The instance id when no meta-data names one. */
    static final String DEFAULT_INSTANCE_ID = "iid-local";

    private final Path userDataFile;
    private final Path metaDataFile;

    NoCloudProvider(Path source) {
        if (Files.isDirectory(source)) {
            this.userDataFile = source.resolve("user-data");
            this.metaDataFile = source.resolve("meta-data");
        } else {
            this.userDataFile = source;
            Path parent = source.toAbsolutePath().getParent();
            this.metaDataFile = parent == null ? null : parent.resolve("meta-data");
        }
    }

    @Override
    public Provider provider() {
        return Provider.NOCLOUD;
    }

    @Override
    public Optional<byte[]> userData() {
        try {
            long size = Files.size(userDataFile);
            if (size > MetadataClient.MAX_USER_DATA_BYTES) {
                throw new UserDataTooLargeException("the user-data file " + userDataFile + " is " + size
                        + " bytes; the most whatami accepts is " + MetadataClient.MAX_USER_DATA_BYTES + " bytes (16 MiB)",
                        userDataFile.toUri(), MetadataClient.MAX_USER_DATA_BYTES);
            }
            return Optional.of(Files.readAllBytes(userDataFile));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new MetadataUnreachableException(Reason.LOCAL_SOURCE_UNREADABLE, "cannot read user-data file "
                    + userDataFile + ": " + e
                    + "; check the path and its permissions", userDataFile.toUri(), 1, e);
        }
    }

    @Override
    public InstanceIdentity identity() {
        String id = DEFAULT_INSTANCE_ID;
        if (metaDataFile != null && Files.isRegularFile(metaDataFile)) {
            try {
                for (String line : Files.readAllLines(metaDataFile, StandardCharsets.UTF_8)) {
                    String t = line.strip();
                    if (t.startsWith("instance-id:") || t.startsWith("instance_id:")) {
                        String value = t.substring(t.indexOf(':') + 1).strip().replaceAll("^[\"']|[\"']$", "");
                        if (!value.isEmpty()) {
                            id = value;
                        }
                    }
                }
            } catch (IOException e) {
                throw new MetadataUnreachableException(Reason.LOCAL_SOURCE_UNREADABLE, "cannot read meta-data file "
                        + metaDataFile + ": " + e,
                        metaDataFile.toUri(), 1, e);
            }
        }
        return new InstanceIdentity(id, Provider.NOCLOUD, Optional.empty(), Optional.empty());
    }
}
