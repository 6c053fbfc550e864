package dev.pmemfs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link DirtyOrder} against an {@link ArrayDeque} of marks: adds and polls with cutoffs, across
 * growth, wrap-around and shrinking, hand out the marks in order and only those old enough; and
 * writers adding while the write-back polls lose no mark and reorder none of one writer's.
 */
final class DirtyOrderTest {
    private record Mark(long page, int count, long since) {
    }

    @Test
    void operations_randomly_matchADeque() {
        SplittableRandom rnd = new SplittableRandom(7);
        DirtyOrder order = new DirtyOrder();
        ArrayDeque<Mark> model = new ArrayDeque<>();
        long clock = Long.MAX_VALUE - 1_000_000; // nanoTime values wrap: compare by difference
        long[] got = new long[3];
        int maxCapacity = 0;
        for (int op = 0; op < 200_000; op++) {
            // phases: a burst that grows the ring, churn around its head, then a drain that shrinks it
            int phase = op / 50_000;
            boolean add = switch (phase) {
                case 0 -> rnd.nextInt(10) < 8;
                case 1, 2 -> rnd.nextBoolean();
                default -> rnd.nextInt(10) < 1;
            };
            if (add) {
                clock += rnd.nextInt(3);
                Mark m = new Mark(rnd.nextLong(1L << 40), 1 + rnd.nextInt(256), clock);
                order.add(m.page(), m.count(), m.since());
                model.add(m);
            } else {
                long cutoff = clock - rnd.nextInt(50);
                Mark head = model.peek();
                boolean due = head != null && head.since() - cutoff <= 0;
                assertEquals(due, order.pollUpTo(cutoff, got), "poll at op " + op);
                if (due) {
                    model.poll();
                    assertArrayEquals(new long[] {head.page(), head.count(), head.since()}, got, "mark at op " + op);
                }
            }
            assertEquals(model.size(), order.size());
            maxCapacity = Math.max(maxCapacity, order.capacity());
            assertTrue(order.capacity() <= Math.max(DirtyOrder.MIN_CAPACITY, 4 * model.size() + 4), "capacity follows size");
        }
        assertTrue(maxCapacity >= 16 * DirtyOrder.MIN_CAPACITY, "the burst grew the ring: " + maxCapacity);
        while (order.pollUpTo(clock, got)) { // every mark is due by now
            Mark m = model.poll();
            assertArrayEquals(new long[] {m.page(), m.count(), m.since()}, got);
        }
        assertTrue(model.isEmpty());
        assertEquals(DirtyOrder.MIN_CAPACITY, order.capacity(), "drained: back to its first size");
        assertFalse(order.pollUpTo(clock, got));
    }

    @Test
    @Timeout(60)
    void writersAndPoller_concurrently_loseAndReorderNothing() throws InterruptedException {
        DirtyOrder order = new DirtyOrder();
        int writers = 3;
        int perWriter = 200_000;
        CountDownLatch start = new CountDownLatch(1);
        Thread[] threads = new Thread[writers];
        for (int w = 0; w < writers; w++) {
            long base = (long) w << 32;
            threads[w] = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perWriter; i++) {
                    order.add(base + i, 1, 0);
                }
            });
            threads[w].start();
        }
        long[] next = new long[writers];
        long[] got = new long[3];
        start.countDown();
        int seen = 0;
        while (seen < writers * perWriter) {
            if (!order.pollUpTo(0, got)) {
                Thread.onSpinWait();
                continue;
            }
            int w = (int) (got[0] >>> 32);
            assertEquals(next[w]++, got[0] & 0xffff_ffffL, "writer " + w + "'s marks in order");
            seen++;
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(0, order.size());
        for (int w = 0; w < writers; w++) {
            assertEquals(perWriter, next[w]);
        }
    }
}
