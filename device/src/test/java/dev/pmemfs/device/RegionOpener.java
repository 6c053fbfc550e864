package dev.pmemfs.device;

import java.nio.file.Path;

/**
 * A second process for lock, permission and cleanup tests: {@code open PATH} or
 * {@code create PATH SIZE}; prints {@code OPENED size} or the error's one-line message and exits
 * 0 or 1.
 */
public final class RegionOpener {
    private RegionOpener() {
    }

    public static void main(String[] args) {
        Path path = Path.of(args[1]);
        try (PmemRegion r = args[0].equals("create") ? PmemRegion.create(path, Long.parseLong(args[2]), false) : PmemRegion.open(path)) {
            System.out.println("OPENED " + r.size());
        } catch (RegionException e) {
            System.out.println(e.getMessage());
            System.exit(1);
        }
    }
}
