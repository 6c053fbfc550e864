package dev.pmemfs.fs.frontend;

import dev.pmemfs.cache.PageStats;
import dev.pmemfs.device.Region;
import dev.pmemfs.device.WearCounters;
import dev.pmemfs.fs.core.FileSystem;
import java.util.Locale;

/**
 * The figures {@code pmemfs stats} shows, as JSON (snake_case keys, the contract with
 * bench/run.sh) and as text: live ones of a mount, and lifetime wear of an unmounted region.
 *
 * <p>Live figures: {@code user_bytes} is what programs wrote (cached plus direct path);
 * {@code media_bytes} every byte stored to the region since this mount (data, journal and
 * metadata); {@code write_amplification} their ratio. {@code region_bytes_written}, persists
 * and the wear histogram are lifetime figures of the region. Stateless.
 */
public final class StatsReport {
    private StatsReport() {
    }

    /** JSON of a live mount; {@code mediaAtMount} is the region's lifetime byte count when it was mounted. */
    public static String json(FileSystem.Stats s, long mediaAtMount, String region, String mountpoint, String dax) {
        PageStats c = s.cached();
        PageStats d = s.direct();
        long user = c.userBytes() + d.userBytes();
        long media = s.regionBytesWritten() - mediaAtMount;
        StringBuilder b = new StringBuilder(1024);
        b.append("{\"region\": ").append(quote(region))
                .append(", \"mountpoint\": ").append(quote(mountpoint))
                .append(", \"dax\": ").append(quote(dax))
                .append(", \"user_bytes\": ").append(user)
                .append(", \"media_bytes\": ").append(media)
                .append(", \"write_amplification\": ").append(ratio(media, user))
                .append(", \"data_media_bytes\": ").append(c.mediaBytes() + d.mediaBytes())
                .append(",\n \"cache\": {\"hits\": ").append(c.hits())
                .append(", \"misses\": ").append(c.misses())
                .append(", \"evictions\": ").append(c.evictions())
                .append(", \"writebacks\": ").append(c.writebacks())
                .append(", \"dirty_pages\": ").append(c.dirtyPages())
                .append(", \"cached_bytes\": ").append(c.cachedBytes())
                .append(", \"user_bytes\": ").append(c.userBytes())
                .append(", \"media_bytes\": ").append(c.mediaBytes())
                .append(", \"lines_skipped\": ").append(c.linesSkipped())
                .append("},\n \"direct\": {\"user_bytes\": ").append(d.userBytes())
                .append(", \"media_bytes\": ").append(d.mediaBytes())
                .append("},\n \"region_bytes_written\": ").append(s.regionBytesWritten())
                .append(", \"persists\": ").append(s.persists())
                .append(", \"commits\": ").append(s.commits())
                .append(", \"free_bytes\": ").append(s.statfs().freeBlocks() * s.statfs().blockSize())
                .append(", \"total_bytes\": ").append(s.statfs().blocks() * s.statfs().blockSize())
                .append(", \"free_inodes\": ").append(s.statfs().freeInodes())
                .append(", \"most_written_block\": ").append(s.mostWrittenBlock())
                .append(", \"most_written_count\": ").append(s.mostWrittenCount())
                .append(",\n ");
        histogram(b, s.wearHistogram());
        return b.append("}\n").toString();
    }

    /** Text of a live mount. */
    public static String text(FileSystem.Stats s, long mediaAtMount, String region, String mountpoint, String dax) {
        PageStats c = s.cached();
        PageStats d = s.direct();
        long user = c.userBytes() + d.userBytes();
        long media = s.regionBytesWritten() - mediaAtMount;
        StringBuilder b = new StringBuilder(1024);
        b.append(String.format(Locale.ROOT, "%s on %s (dax=%s)%n", region, mountpoint, dax));
        b.append(String.format(Locale.ROOT, "written by users  %s (cached %s, direct %s)%n",
                size(user), size(c.userBytes()), size(d.userBytes())));
        b.append(String.format(Locale.ROOT, "written to media  %s since mount (data %s); write amplification %s%n",
                size(media), size(c.mediaBytes() + d.mediaBytes()), ratio(media, user)));
        b.append(String.format(Locale.ROOT,
                "cache             %d hits, %d misses, %d evictions, %d write-backs, %d dirty pages, %s in RAM%n",
                c.hits(), c.misses(), c.evictions(), c.writebacks(), c.dirtyPages(), size(c.cachedBytes())));
        b.append(String.format(Locale.ROOT, "space             %s free of %s, %d inodes free%n",
                size(s.statfs().freeBlocks() * s.statfs().blockSize()), size(s.statfs().blocks() * s.statfs().blockSize()),
                s.statfs().freeInodes()));
        b.append(String.format(Locale.ROOT, "lifetime          %s written, %d persists, most-written block %d (%d writes)%n",
                size(s.regionBytesWritten()), s.persists(), s.mostWrittenBlock(), s.mostWrittenCount()));
        textHistogram(b, s.wearHistogram());
        return b.toString();
    }

    /** JSON of the lifetime wear of an unmounted region. */
    public static String json(WearCounters w, String region) {
        long top = w.mostWrittenBlock();
        StringBuilder b = new StringBuilder(512);
        b.append("{\"region\": ").append(quote(region))
                .append(", \"region_bytes_written\": ").append(w.bytesWritten())
                .append(", \"persists\": ").append(w.persists())
                .append(", \"stores\": ").append(w.stores())
                .append(", \"blocks\": ").append(w.blocks())
                .append(", \"most_written_block\": ").append(top)
                .append(", \"most_written_count\": ").append(w.blockWrites(top))
                .append(",\n ");
        histogram(b, w.histogram());
        return b.append("}\n").toString();
    }

    /** Text of the lifetime wear of an unmounted region. */
    public static String text(WearCounters w, String region) {
        return text(w, region, null);
    }

    /**
     * Text of the lifetime wear of a region; {@code mountedAt} is where it is mounted, or null.
     * Wear is saved at unmount, so a mounted region shows the figures of its last unmount.
     */
    public static String text(WearCounters w, String region, String mountedAt) {
        long top = w.mostWrittenBlock();
        StringBuilder b = new StringBuilder(512);
        b.append(mountedAt == null
                ? String.format(Locale.ROOT, "%s (not mounted): lifetime wear%n", region)
                : String.format(Locale.ROOT, "%s (mounted at %s): lifetime wear as of its last unmount;"
                        + " live figures: pmemfs stats %s%n", region, mountedAt, mountedAt));
        b.append(String.format(Locale.ROOT, "lifetime          %s written in %d stores, %d persists, most-written block %d (%d writes)%n",
                size(w.bytesWritten()), w.stores(), w.persists(), top, w.blockWrites(top)));
        textHistogram(b, w.histogram());
        return b.toString();
    }

    private static void histogram(StringBuilder b, long[] h) {
        b.append("\"wear_histogram\": [");
        for (int k = 0; k < h.length; k++) {
            b.append(k == 0 ? "" : ", ").append("{\"writes\": \"").append(WearCounters.bucketLabel(k))
                    .append("\", \"blocks\": ").append(h[k]).append('}');
        }
        b.append(']');
    }

    private static void textHistogram(StringBuilder b, long[] h) {
        b.append("wear (writes: blocks)");
        for (int k = 0; k < h.length; k++) {
            if (h[k] != 0) {
                b.append("  ").append(WearCounters.bucketLabel(k)).append(": ").append(h[k]);
            }
        }
        b.append(System.lineSeparator());
    }

    private static String ratio(long media, long user) {
        return user == 0 ? "0" : String.format(Locale.ROOT, "%.3f", (double) media / user);
    }

    private static String size(long bytes) {
        return Region.formatSize(bytes);
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (ch < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
