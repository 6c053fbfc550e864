package dev.pmemfs.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link WrittenQueue} against an {@link ArrayDeque} of (page, number): adds, removals from the
 * head, pages moving on (their number cleared) and compaction, across wrap-around and growth,
 * keep the live entries in order.
 */
final class WrittenQueueTest {
    private record Entry(Page page, long seq) {
    }

    @Test
    void operations_randomly_matchADeque() {
        SplittableRandom rnd = new SplittableRandom(3);
        WrittenQueue q = new WrittenQueue();
        ArrayDeque<Entry> model = new ArrayDeque<>();
        Page[] pages = new Page[64];
        for (int i = 0; i < pages.length; i++) {
            pages[i] = new Page(MemorySegment.ofArray(new byte[Pages.PAGE_SIZE]), -1);
        }
        for (int op = 0; op < 100_000; op++) {
            // first a queue that grows past its capacity while its head moves (wrap-around), then churn
            int r = op < 30_000 ? (rnd.nextInt(10) < 6 ? 0 : 7) : rnd.nextInt(10);
            if (r < 5) {
                Page p = pages[rnd.nextInt(pages.length)];
                long seq = q.nextSeq();
                p.writtenSeq = seq;
                q.add(p, seq);
                model.add(new Entry(p, seq));
            } else if (r < 7) {
                pages[rnd.nextInt(pages.length)].writtenSeq = 0; // dirtied, promoted or freed
            } else if (r < 9) {
                if (model.isEmpty()) {
                    assertNull(q.headPage(), "op " + op);
                    continue;
                }
                Entry e = model.poll();
                assertSame(e.page(), q.headPage(), "op " + op + ": head page");
                assertEquals(e.seq(), q.headSeq(), "op " + op + ": head number");
                q.removeHead();
            } else {
                q.compact();
                model.removeIf(e -> e.page().writtenSeq != e.seq());
            }
            assertEquals(model.size(), q.size(), "op " + op + ": size");
        }
    }
}
