package dev.pmemfs.fs.frontend;

import dev.pmemfs.fs.layout.Geometry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Wear of each area of a filesystem (superblocks, journal, bitmaps, inode table, data), from
 * the region's per-block write counts: the most-written block of each area, the area's mean,
 * and their ratio, the figure that says whether an area wears evenly. Stateless.
 */
public final class AreaWear {
    /** One area's wear: its block count, most-written block and its writes, mean writes per block. */
    public record Area(String name, long blocks, long hottest, long max, double mean) {
        public double maxOverMean() {
            return mean == 0 ? 0 : max / mean;
        }
    }

    private AreaWear() {
    }

    /** The areas of {@code g}, with the writes in {@code perBlock} (indexed by block). */
    public static List<Area> of(Geometry g, long[] perBlock) {
        List<Area> out = new ArrayList<>();
        out.add(area("superblock", perBlock, new long[] {0, g.backupSuperblock()}));
        out.add(area("journal", perBlock, range(g.journalStart(), g.journalBlocks())));
        out.add(area("inode bitmap", perBlock, range(g.inodeBitmapStart(), g.inodeBitmapBlocks())));
        out.add(area("block bitmap", perBlock, range(g.blockBitmapStart(), g.blockBitmapBlocks())));
        out.add(area("inode table", perBlock, range(g.inodeTableStart(), g.inodeTableBlocks())));
        out.add(area("data", perBlock, range(g.firstDataBlock(), g.backupSuperblock() - g.firstDataBlock())));
        return out;
    }

    /** The name of the area that holds {@code block}. */
    public static String owner(Geometry g, long block) {
        if (block == 0 || block == g.backupSuperblock()) {
            return "superblock";
        }
        if (block > g.backupSuperblock()) {
            return "wear counters";
        }
        if (block < g.inodeBitmapStart()) {
            return "journal";
        }
        if (block < g.blockBitmapStart()) {
            return "inode bitmap";
        }
        if (block < g.inodeTableStart()) {
            return "block bitmap";
        }
        return block < g.firstDataBlock() ? "inode table" : "data";
    }

    private static long[] range(long start, long count) {
        long[] b = new long[(int) count];
        for (int i = 0; i < b.length; i++) {
            b[i] = start + i;
        }
        return b;
    }

    private static Area area(String name, long[] perBlock, long[] blocks) {
        long max = -1;
        long hottest = -1;
        long sum = 0;
        for (long b : blocks) {
            long n = b < perBlock.length ? perBlock[(int) b] : 0;
            sum += n;
            if (n > max) {
                max = n;
                hottest = b;
            }
        }
        return new Area(name, blocks.length, hottest, Math.max(max, 0), blocks.length == 0 ? 0 : (double) sum / blocks.length);
    }

    /** JSON: {@code "hottest_block": {...}, "areas": [...]} (no braces around, a comma-led fragment). */
    static void json(StringBuilder b, Geometry g, long[] perBlock, long hottest) {
        b.append(", \"hottest_block\": {\"block\": ").append(hottest)
                .append(", \"writes\": ").append(hottest < perBlock.length ? perBlock[(int) hottest] : 0)
                .append(", \"area\": ").append(StatsReport.quote(owner(g, hottest))).append("},\n \"areas\": [");
        List<Area> areas = of(g, perBlock);
        for (int i = 0; i < areas.size(); i++) {
            Area a = areas.get(i);
            b.append(i == 0 ? "" : ", ").append("{\"area\": ").append(StatsReport.quote(a.name()))
                    .append(", \"blocks\": ").append(a.blocks())
                    .append(", \"hottest_block\": ").append(a.hottest())
                    .append(", \"max\": ").append(a.max())
                    .append(", \"mean\": ").append(String.format(Locale.ROOT, "%.3f", a.mean()))
                    .append(", \"max_over_mean\": ").append(String.format(Locale.ROOT, "%.3f", a.maxOverMean())).append('}');
        }
        b.append(']');
    }

    /** Text: the hottest block and its area, then one line per area. */
    static void text(StringBuilder b, Geometry g, long[] perBlock, long hottest) {
        b.append(String.format(Locale.ROOT, "hottest block     %d (%s), %d writes%n", hottest, owner(g, hottest),
                hottest < perBlock.length ? perBlock[(int) hottest] : 0));
        b.append(String.format(Locale.ROOT, "wear by area      %-13s %9s %10s %10s %9s%n", "area", "blocks", "max", "mean", "max/mean"));
        for (Area a : of(g, perBlock)) {
            b.append(String.format(Locale.ROOT, "                  %-13s %9d %10d %10.2f %9.2f%n", a.name(), a.blocks(), a.max(),
                    a.mean(), a.maxOverMean()));
        }
    }
}
