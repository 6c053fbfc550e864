package dev.pmemfs.fs.core;

import dev.pmemfs.device.Region;
import dev.pmemfs.fs.layout.Bitmaps;
import dev.pmemfs.fs.layout.BlockCrc;
import dev.pmemfs.fs.layout.Geometry;
import dev.pmemfs.fs.layout.InodeRecord;
import dev.pmemfs.fs.layout.Superblock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The filesystem checker: checks every invariant of an unmounted pmemfs and, on request,
 * repairs what it can, as e2fsck does for ext4.
 *
 * <p>It reads the superblock (refusing a foreign or unusable one with
 * {@link Format.BadRegionException}), compares it with its backup, checks the journal's anchor
 * and log (damage that would cut committed transactions off), replays the journal, then
 * scans ({@link FsckScan}): inode checksums and types, every block map (range, checksums of
 * indirect and xattr blocks, no block used twice, sizes and block counts), the directory tree
 * from the root (directory block checksums and records, entry targets and types, duplicate
 * names, one name per directory, parent fields), link counts, orphans, and both bitmaps against
 * what is reachable. Each problem is one line.
 *
 * <p>Repair ({@link FsckRepair}) runs in passes, each followed by a new scan, until the scan
 * is clean or a pass changes nothing: what is left is reported and gives exit code 4.
 * The region must not be mounted; nothing here is thread safe.
 */
public final class Fsck {
    private static final Logger LOG = LoggerFactory.getLogger(Fsck.class);
    /** Repair passes before giving up: each pass fixes what the previous one revealed. */
    private static final int MAX_PASSES = 6;

    public static final int EXIT_CLEAN = 0;
    public static final int EXIT_REPAIRED = 1;
    public static final int EXIT_UNCORRECTED = 4;

    /**
     * What fsck found: one line per problem, whether it wrote repairs, and the e2fsck-style
     * exit code (0 clean, 1 every problem repaired, 4 problems left).
     */
    public record Report(List<String> problems, boolean repaired, int exitCode) {
        public Report {
            problems = List.copyOf(problems);
        }
    }

    private Fsck() {
    }

    /** Checks (and with {@code repair}, repairs) the unmounted filesystem on {@code region}; notes go to the log. */
    public static Report check(Region region, boolean repair) {
        return check(region, repair, note -> LOG.info("{}: {}", region.name(), note));
    }

    /**
     * Checks the unmounted filesystem on {@code region}; {@code notes} hears what is not a
     * problem (journal replayed, orphans the next mount frees). Throws only
     * {@link Format.BadRegionException}, when there is no usable superblock.
     */
    public static Report check(Region region, boolean repair, Consumer<String> notes) {
        List<String> problems = new ArrayList<>();
        Superblock sb = readSuperblock(region, problems);
        boolean restored = !problems.isEmpty();
        Geometry geo = sb.geometry();
        checkGeometry(region, geo);
        List<String> journal = Journal.problems(region, geo);
        problems.addAll(journal);
        int replayed = Journal.replay(region, geo);
        if (replayed >= 0) {
            notes.accept("journal replayed (" + replayed + " blocks)");
        }
        if (repair && !journal.isEmpty()) {
            new Journal(region, geo); // a fresh anchor and sequence: what is left past the damage is dropped
            restored = true;
        }
        String backup = checkBackup(region, sb);
        if (backup != null) {
            problems.add(backup);
        }
        FsckScan scan = FsckScan.run(region, geo);
        scan.notes.forEach(notes);
        problems.addAll(scan.problems);
        if (!repair) {
            boolean left = problems.size() > (restored ? 1 : 0);
            return new Report(problems, restored, left ? EXIT_UNCORRECTED : restored ? EXIT_REPAIRED : EXIT_CLEAN);
        }
        return repair(region, sb, scan, problems, restored || backup != null);
    }

    private static Report repair(Region region, Superblock sb, FsckScan first, List<String> problems, boolean sbFixed) {
        if (checkBackup(region, sb) != null) {
            Format.writeSuperblock(region, sb);
        }
        boolean changed = sbFixed;
        FsckScan scan = first;
        List<String> failures = new ArrayList<>();
        for (int pass = 0; pass < MAX_PASSES && !scan.problems.isEmpty(); pass++) {
            failures.clear();
            if (!FsckRepair.run(scan, failures)) {
                break;
            }
            changed = true;
            scan = FsckScan.run(region, sb.geometry());
        }
        List<String> left = new ArrayList<>(failures);
        left.addAll(scan.problems);
        List<String> all = new ArrayList<>(problems);
        left.forEach(p -> all.add("not repaired: " + p));
        int exit = !left.isEmpty() ? EXIT_UNCORRECTED : problems.isEmpty() ? EXIT_CLEAN : EXIT_REPAIRED;
        return new Report(all, changed, exit);
    }

    /** The superblock; a primary restored from the backup is reported (and counts as repaired). */
    private static Superblock readSuperblock(Region region, List<String> problems) {
        byte[] primary = new byte[BlockCrc.BLOCK];
        region.read(0, primary, 0, Superblock.SIZE);
        Superblock.Problem p = Superblock.check(primary, region.dataSize() / Geometry.BLOCK);
        Superblock sb = Format.readSuperblock(region);
        if (p != null) {
            problems.add("superblock: primary is unusable (" + p.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ')
                    + "); restored from the backup");
        }
        return sb;
    }

    /** What is wrong with the backup superblock, or null when it agrees with the primary. */
    private static String checkBackup(Region region, Superblock sb) {
        long at = sb.geometry().backupSuperblock();
        byte[] b = new byte[BlockCrc.BLOCK];
        region.read(at * Geometry.BLOCK, b, 0, Superblock.SIZE);
        Superblock.Problem p = Superblock.check(b, region.dataSize() / Geometry.BLOCK);
        if (p != null) {
            return "superblock: backup at block " + at + " is unusable (" + p.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + ")";
        }
        Superblock backup = Superblock.decode(b);
        if (!backup.geometry().equals(sb.geometry()) || !backup.uuid().equals(sb.uuid())) {
            return "superblock: backup at block " + at + " differs from the primary (geometry or UUID)";
        }
        return null;
    }

    /** Refuses a superblock whose areas do not tile the region as mkfs lays them out. */
    private static void checkGeometry(Region region, Geometry g) {
        long bits = Bitmaps.BITS_PER_BLOCK;
        boolean ok = g.journalBlocks() >= 4 && g.inodes() >= 16 && g.inodes() <= Integer.MAX_VALUE
                && g.blocks() <= Integer.MAX_VALUE
                && g.inodeBitmapStart() == g.journalStart() + g.journalBlocks()
                && g.blockBitmapStart() == g.inodeBitmapStart() + g.inodeBitmapBlocks()
                && g.inodeTableStart() == g.blockBitmapStart() + g.blockBitmapBlocks()
                && g.inodeBitmapBlocks() * bits >= g.inodes() && g.blockBitmapBlocks() * bits >= g.blocks()
                && g.inodeTableBlocks() * (Geometry.BLOCK / InodeRecord.SIZE) == g.inodes()
                && g.firstDataBlock() < g.backupSuperblock();
        if (!ok) {
            throw new Format.BadRegionException(region.name() + ": pmemfs superblock describes an inconsistent layout");
        }
    }
}
