package dev.whatami.agent.cli;

import dev.whatami.boot.Boot;
import dev.whatami.fetch.FetchException;
import dev.whatami.fetch.FetchRefusedException;
import dev.whatami.metadata.MetadataException;
import java.util.Optional;

/**
 * The command line's advice for errors from the libraries: their messages name builder methods, which a person at a
 * boot console does not call; this names the flag (or config key) that sets the same thing.
 */
final class FlagHints implements Boot.Hints {
    @Override
    public Optional<String> hint(RuntimeException error) {
        String m = error.getMessage() == null ? "" : error.getMessage();
        if (m.contains(" --")) {
            return Optional.empty(); // the message names its flag already
        }
        if (m.equals("requireSignature")) {
            return Optional.of("Put the owner's public key (*.pub) in --trusted-keys DIR (default "
                    + "/etc/whatami/trusted-keys), or drop --require-signature.");
        }
        if (error instanceof MetadataException me) {
            return switch (me.reason()) {
                case UNREACHABLE, NOT_DETECTED -> Optional.of("On the command line, --provider and "
                        + "--metadata-endpoint name them (off-cloud: --user-data-file); --deadline sets how long to "
                        + "keep trying.");
                case EC2_DISABLED -> Optional.of("AWS_EC2_METADATA_DISABLED is set: unset it, or give the user-data "
                        + "with --user-data-file.");
                case IMDS_V2_UNAVAILABLE, TOKEN_REJECTED -> Optional.of("--imds-v2-required (or "
                        + "AWS_EC2_METADATA_V1_DISABLED) refuses IMDSv1; --imds-token-timeout sets how long a token "
                        + "may take.");
                case SERVICE_DISABLED -> Optional.of("Off EC2, give the user-data with --user-data-file.");
                case LOCAL_SOURCE_UNREADABLE -> Optional.of("Check the path given to --user-data-file.");
                default -> Optional.empty();
            };
        }
        if (error instanceof FetchRefusedException refused) {
            return switch (refused.reason()) {
                case SIGNATURE_MISSING, SIGNATURE_INVALID -> Optional.of("The keys trusted here are in --trusted-keys "
                        + "(default /etc/whatami/trusted-keys).");
                case POLICY -> Optional.of("The policy comes from --require-https / --require-signature.");
                case MANIFEST_INVALID, MANIFEST_MISSING -> Optional.of("The manifest root key trusted here is "
                        + "--manifest-root-key (default /etc/whatami/manifest-root.pub).");
                default -> Optional.empty();
            };
        }
        if (error instanceof FetchException fetch) {
            return switch (fetch.failure()) {
                case TLS -> Optional.of("To trust a private CA, give its PEM bundle with --ca-bundle.");
                case UNREACHABLE, TIMEOUT, SERVER_ERROR, TOO_MANY_REQUESTS -> Optional.of("--deadline (or "
                        + "--fetch-deadline) sets how long fetching keeps trying.");
                case TOO_LARGE -> Optional.of("--max-script-size sets the limit.");
                default -> Optional.empty();
            };
        }
        return Optional.empty();
    }
}
