package dev.pmemfs.fs.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pmemfs.fs.layout.InodeRecord;
import java.util.Arrays;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The dirty set fsync takes: emptied in place while small, replaced once it grew large. */
final class InodeTest {
    @Test
    void takeDirty_smallSet_emptiedInPlace() {
        Inode in = new Inode(5, new InodeRecord());
        Set<Long> set = in.dirty;
        set.add(7L);
        set.add(3L);
        long[] taken = in.takeDirty();
        Arrays.sort(taken);
        assertArrayEquals(new long[] {3, 7}, taken);
        assertSame(set, in.dirty);
        assertTrue(in.dirty.isEmpty());
    }

    /** Mutation checked by hand: emptying a large set in place keeps the old object (red). */
    @Test
    void takeDirty_largeSet_replacedAndNothingLost() {
        Inode in = new Inode(5, new InodeRecord());
        Set<Long> set = in.dirty;
        for (long p = 0; p < Inode.LARGE_DIRTY + 10; p++) {
            set.add(p);
        }
        assertEquals(Inode.LARGE_DIRTY + 10, in.takeDirty().length);
        assertNotSame(set, in.dirty, "a table that grew large is not kept");
        assertTrue(in.dirty.isEmpty());
        in.dirty.add(99L);
        assertArrayEquals(new long[] {99}, in.takeDirty(), "a page dirtied after the swap is in the new set");
    }
}
