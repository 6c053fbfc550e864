package dev.pmemfs.fs.core;

/** Which files take the direct (DAX) path, as ext4's and XFS's {@code -o dax=} option. */
public enum DaxMode {
    /** Every file goes through the RAM cache (pmemfs's default). */
    NEVER,
    /** Every regular file uses the direct path. */
    ALWAYS,
    /** The per-file DAX flag decides; new files inherit their directory's flag. */
    INODE;

    public static DaxMode parse(String s) {
        return switch (s) {
            case "never" -> NEVER;
            case "always" -> ALWAYS;
            case "inode" -> INODE;
            default -> throw new IllegalArgumentException("--dax must be never, always or inode, not '" + s + "'");
        };
    }
}
