package dev.whatami.userdata;

/**
 * User-data written for another boot tool (cloud-config, a boothook, a Jinja template, …): none of it is for whatami.
 * It carries one whole-data {@link Problem} that names the format; {@link #format()} says which, so a caller can tell
 * "not for us" from "broken" (an agent on an image that also runs cloud-init may want to treat it as no user-data).
 */
public class ForeignFormatException extends UserDataException {
    private static final long serialVersionUID = 1L;

    private final ForeignFormat format;

    public ForeignFormatException(ForeignFormat format, Problem problem) {
        super(problem);
        this.format = format;
    }

    /** Which format the user-data is. */
    public ForeignFormat format() {
        return format;
    }
}
