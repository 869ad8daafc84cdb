package dev.whatami.emulator.internal;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

/**
 * What the emulator's builder collected. Optional values that are empty mean each cloud's own default.
 *
 * @param userData            the user-data, or empty for none
 * @param instanceId          one instance id for every cloud, or empty for each cloud's example id
 * @param region              one region for every cloud, or empty
 * @param zone                one zone for every cloud, or empty
 * @param localIpv4           the instance's private address
 * @param imdsV2Required      EC2 refuses requests without a token
 * @param instanceIdPerClient EC2 gives each client address its own instance id
 * @param ec2Role             the EC2 instance role, or empty for none
 * @param credentialsLifetime how long EC2 role credentials last
 * @param gceServiceAccount   the GCE service account's e-mail, or empty for none
 * @param gceStartupScriptUrl GCE's startup-script-url attribute, or empty
 * @param azureIdentity       whether an Azure managed identity is assigned
 * @param tokenLifetime       how long GCE and Azure access tokens last
 * @param clock               time for token and credential expiry
 */
public record Settings(Optional<byte[]> userData, Optional<String> instanceId, Optional<String> region,
                       Optional<String> zone, String localIpv4, boolean imdsV2Required, boolean instanceIdPerClient,
                       Optional<String> ec2Role, Duration credentialsLifetime, Optional<String> gceServiceAccount,
                       Optional<String> gceStartupScriptUrl, boolean azureIdentity, Duration tokenLifetime,
                       Clock clock) {
}
