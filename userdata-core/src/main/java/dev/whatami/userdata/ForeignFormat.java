package dev.whatami.userdata;

/**
 * User-data written for another boot tool, which whatami recognises so it can say so instead of failing on the first
 * line: cloud-init's formats (recognised as cloud-init does, by how the data starts, ignoring case and leading
 * whitespace), Windows user-data scripts and Ignition configs. See {@link ForeignFormatException}.
 */
public enum ForeignFormat {
    /** {@code #cloud-config}: cloud-init's YAML configuration. */
    CLOUD_CONFIG("#cloud-config", "text/cloud-config", "cloud-config", "cloud-init runs"),
    /** {@code #cloud-config-archive}: a list of cloud-init parts. */
    CLOUD_CONFIG_ARCHIVE("#cloud-config-archive", "text/cloud-config-archive", "a cloud-config archive",
            "cloud-init reads"),
    /** {@code #cloud-config-jsonp}: a JSON patch for cloud-config. */
    CLOUD_CONFIG_JSONP("#cloud-config-jsonp", "text/cloud-config-jsonp", "a cloud-config JSON patch",
            "cloud-init reads"),
    /** {@code #cloud-boothook}: a script cloud-init runs early in every boot. */
    BOOTHOOK("#cloud-boothook", "text/cloud-boothook", "a cloud-init boothook", "cloud-init runs"),
    /** {@code ## template: jinja}: a Jinja template cloud-init renders before reading it. */
    JINJA_TEMPLATE("## template: jinja", "text/jinja2", "a Jinja template", "cloud-init renders"),
    /** {@code #include}: URLs whose contents cloud-init fetches and reads as user-data. */
    INCLUDE("#include", "text/x-include-url", "an include list", "cloud-init fetches"),
    /** {@code #include-once}: as {@link #INCLUDE}, fetched once. */
    INCLUDE_ONCE("#include-once", "text/x-include-once-url", "an include-once list", "cloud-init fetches"),
    /** {@code #part-handler}: Python code that handles cloud-init parts. */
    PART_HANDLER("#part-handler", "text/part-handler", "a cloud-init part handler", "cloud-init runs"),
    /** {@code #upstart-job}: an upstart job definition. */
    UPSTART_JOB("#upstart-job", "text/upstart-job", "an upstart job", "cloud-init installs"),
    /** {@code <powershell>}, {@code <script>}, {@code #ps1}: a Windows user-data script. */
    WINDOWS_SCRIPT("<powershell>", "text/x-powershell", "a Windows user-data script",
            "EC2Launch or cloudbase-init runs"),
    /** A JSON document with an {@code "ignition"} key: an Ignition config. */
    IGNITION("{\"ignition\": …}", "application/vnd.coreos.ignition+json", "an Ignition config", "Ignition runs");

    private final String marker;
    private final String mimeType;
    private final String description;
    private final String whoRunsIt;

    ForeignFormat(String marker, String mimeType, String description, String whoRunsIt) {
        this.marker = marker;
        this.mimeType = mimeType;
        this.description = description;
        this.whoRunsIt = whoRunsIt;
    }

    /** How such user-data starts, e.g. {@code #cloud-config}. */
    public String marker() {
        return marker;
    }

    /** The MIME type of such a part in multipart user-data, e.g. {@code text/cloud-config}. */
    public String mimeType() {
        return mimeType;
    }

    /** What it is, for a sentence, e.g. {@code cloud-config} or {@code a cloud-init boothook}. */
    public String description() {
        return description;
    }

    /** Who reads it and what it does with it, e.g. {@code cloud-init runs}. */
    public String whoRunsIt() {
        return whoRunsIt;
    }
}
