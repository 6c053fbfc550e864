package dev.pmemfs.fs.kernel;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The kernel's lookup count of each node id: raised by every reply that hands out an entry
 * (LOOKUP, CREATE, MKNOD, MKDIR, SYMLINK, LINK, each READDIRPLUS entry with a node id), lowered
 * by FORGET and BATCH_FORGET; a node whose count reaches zero is dropped.
 *
 * <p>Why: node ids are inode numbers, and the core frees an inode once it has no links and no
 * open handles, while the kernel may still hold the node (a removed directory that is some
 * process's cwd). The core asks {@link #held} before it hands out a free number again
 * ({@link dev.pmemfs.fs.core.FileSystem#reserveInodes}), so a request for such a node answers
 * ENOENT and never reaches a newer inode of that number. Keeping the number out of use is
 * race-free where a generation is not: requests carry no generation, so one sent for the old
 * node before the kernel learned of the new one would land on the new inode.
 *
 * <p>A count is raised before the reply goes out (the kernel may forget on another worker as
 * soon as it has the reply) and lowered again if the reply was not taken.
 * Thread-safe: one concurrent map, updated per key; no lock is shared across nodes.
 */
final class Lookups {
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final long NAMELEN = FuseAbi.off(FuseAbi.DIRENT, "namelen");

    private final ConcurrentHashMap<Long, Long> counts = new ConcurrentHashMap<>();

    /** One more reference the kernel holds to {@code nodeid}. */
    void add(long nodeid) {
        counts.merge(nodeid, 1L, Long::sum);
    }

    /** The kernel dropped {@code n} references to {@code nodeid}; more than it holds drops the node. */
    void forget(long nodeid, long n) {
        counts.computeIfPresent(nodeid, (k, c) -> Long.compareUnsigned(c, n) > 0 ? c - n : null);
    }

    /** Whether the kernel may still refer to {@code nodeid}. */
    boolean held(long nodeid) {
        return counts.containsKey(nodeid);
    }

    /** The count of {@code nodeid}, 0 if none. */
    long count(long nodeid) {
        return counts.getOrDefault(nodeid, 0L);
    }

    /** FORGET: {@code fuse_forget_in} names the count, the header the node. */
    void forget(Request in) {
        if (in.bodySize() >= FuseAbi.FORGET_IN.byteSize()) {
            forget(in.nodeid, in.u64(0));
        }
    }

    /** BATCH_FORGET: a count, then that many {@code fuse_forget_one}; entries past the body are ignored. */
    void batchForget(Request in) {
        long head = FuseAbi.BATCH_FORGET_IN.byteSize();
        long one = FuseAbi.FORGET_ONE.byteSize();
        if (in.bodySize() < head) {
            return;
        }
        long count = Math.min(in.u32(0) & 0xffffffffL, (in.bodySize() - head) / one);
        for (long i = 0; i < count; i++) {
            forget(in.u64(head + i * one), in.u64(head + i * one + 8));
        }
    }

    /**
     * Undoes the counts of a reply the kernel did not take: the entry at 0 of
     * {@code payload} (LOOKUP and the calls that create), or each entry of a READDIRPLUS reply.
     */
    void notSent(int opcode, MemorySegment payload, long n) {
        if (opcode != FuseAbi.READDIRPLUS) {
            long nodeid = payload.get(U64, 0);
            if (nodeid != 0) { // a negative LOOKUP entry counts nothing
                forget(nodeid, 1);
            }
            return;
        }
        long at = 0;
        while (at + Wire.ENTRY_SIZE + Wire.DIRENT_SIZE <= n) {
            long nodeid = payload.get(U64, at);
            if (nodeid != 0) {
                forget(nodeid, 1);
            }
            at += Wire.ENTRY_SIZE;
            at += Wire.direntSize(payload.get(U32, at + NAMELEN));
        }
    }

    /** Whether a success of {@code opcode} hands out entries. */
    static boolean handsOutEntries(int opcode) {
        return switch (opcode) {
            case FuseAbi.LOOKUP, FuseAbi.CREATE, FuseAbi.MKNOD, FuseAbi.MKDIR, FuseAbi.SYMLINK, FuseAbi.LINK,
                    FuseAbi.READDIRPLUS -> true;
            default -> false;
        };
    }
}
