package dev.whatami.agent.cli;

import dev.whatami.agent.Boot;
import dev.whatami.fetch.FetchException;
import dev.whatami.fetch.SignatureRefusedException;
import dev.whatami.metadata.MetadataRefusedException;
import dev.whatami.metadata.MetadataUnreachableException;
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
        if (error instanceof MetadataUnreachableException) {
            return Optional.of("Check that the metadata service is reachable from this machine, or name the provider "
                    + "and endpoint with --provider / --metadata-endpoint (off-cloud: --user-data-file).");
        }
        if (error instanceof MetadataRefusedException) {
            return Optional.of("On EC2, --imds-v2-required refuses IMDSv1 and --imds-token-timeout sets how long a "
                    + "token may take; off-cloud, give the user-data with --user-data-file.");
        }
        if (error instanceof SignatureRefusedException) {
            return Optional.of("The keys trusted here are in --trusted-keys (default /etc/whatami/trusted-keys).");
        }
        if (error instanceof FetchException && (m.contains("certificate") || m.contains("PKIX") || m.contains("TLS"))) {
            return Optional.of("To trust a private CA, give its PEM bundle with --ca-bundle.");
        }
        return Optional.empty();
    }
}
