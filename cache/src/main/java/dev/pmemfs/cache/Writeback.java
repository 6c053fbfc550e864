package dev.pmemfs.cache;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background write-back thread of a {@link CachedPages}: it wakes a few times per
 * write-back delay, or when a writer passes the high watermark, and writes back the dirty
 * pages that are too old or too many, then evicts written pages above their limit.
 *
 * <p>A daemon thread, so a forgotten cache never keeps the JVM alive; {@link #stop} ends it and
 * waits for it. Guards: {@code stopping} is volatile; the thread itself touches only
 * {@link CachedPages}' thread-safe write-back methods.
 */
final class Writeback implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(Writeback.class);

    private final CachedPages pages;
    private final long periodNanos;
    private final Thread thread;
    private volatile boolean stopping;

    Writeback(CachedPages pages, Duration delay) {
        this.pages = pages;
        long quarter = delay.toNanos() / 4;
        this.periodNanos = Math.clamp(quarter, 1_000_000L, 1_000_000_000L);
        this.thread = Thread.ofPlatform().daemon().name("pmemfs-writeback").unstarted(this);
    }

    void start() {
        thread.start();
    }

    /** Asks the thread to look at the dirty pages now (a writer passed the high watermark). */
    void wake() {
        LockSupport.unpark(thread);
    }

    @Override
    public void run() {
        LOG.debug("write-back thread started");
        while (!stopping) {
            LockSupport.parkNanos(this, periodNanos);
            if (stopping) {
                break;
            }
            try {
                pages.writeBackAboveHigh();
                pages.writeBackExpired();
                pages.trimWrittenInBackground();
            } catch (RuntimeException | Error e) {
                // keep the thread alive: the next sync reports the failure to its caller
                LOG.error("write-back failed: {}", e.toString());
                LockSupport.parkNanos(this, periodNanos);
            }
        }
        LOG.debug("write-back thread stopped");
    }

    /** Stops the thread and waits until it has finished its current batch. */
    void stop() {
        stopping = true;
        LockSupport.unpark(thread);
        if (thread == Thread.currentThread()) {
            return;
        }
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
