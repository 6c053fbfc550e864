package dev.pmemfs.fs.fuse;

import dev.pmemfs.device.Region;
import dev.pmemfs.fs.core.FileSystem;
import dev.pmemfs.fs.frontend.LiveStats;
import dev.pmemfs.fs.kernel.KernelFrontend;
import dev.pmemfs.fs.kernel.KernelMount;
import dev.pmemfs.fs.kernel.KernelOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ru.serce.jnrfuse.FuseException;

/**
 * A mounted pmemfs for the life of the process: serves it on the calling thread through one
 * of the two frontends ({@link KernelFrontend} on /dev/fuse, or {@link PmemFuse} on libfuse's
 * multi-threaded loop) and, whichever way the mount ends, closes the filesystem and the region
 * exactly once before the JVM exits.
 *
 * <p>Two ways out. (1) {@code fusermount -u} (or {@code pmemfs umount}): the loop returns, and
 * {@link #run} closes. (2) SIGINT/SIGTERM: our shutdown hook unmounts (plain, then lazy if the
 * mount is busy), waits up to {@value #LOOP_WAIT_S} s for the loop to return, and closes.
 * jnr-fuse's own hook (a lazy unmount it does not wait for) runs beside ours and is harmless.
 * {@link #closeOnce} is synchronized, so the hook and {@code run} never close twice, and the JVM
 * cannot finish exiting while either is still writing back.
 */
public final class FuseDaemon {
    private static final Logger LOG = LoggerFactory.getLogger(FuseDaemon.class);
    private static final int LOOP_WAIT_S = 10;
    /** Options every jnr-fuse mount gets; see the README for why each. */
    public static final String FIXED_OPTIONS = "subtype=pmemfs,default_permissions,big_writes,max_write=131072,"
            + "use_ino,auto_unmount,attr_timeout=1,entry_timeout=1,negative_timeout=0";

    /** Which FUSE frontend serves the mount. */
    public enum Frontend {
        KERNEL("kernel"), JNR_FUSE("jnr-fuse");

        private final String word;

        Frontend(String word) {
            this.word = word;
        }

        /** {@code kernel} or {@code jnr-fuse}. */
        public static Frontend parse(String s) {
            for (Frontend f : values()) {
                if (f.word.equals(s)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("--frontend must be kernel or jnr-fuse, not '" + s + "'");
        }

        @Override
        public String toString() {
            return word;
        }
    }

    private final Region region;
    private final FileSystem fs;
    private final Path mountpoint;
    private final String dax;
    private final LiveStats stats;
    private final List<String> fuseOptions;
    private final Frontend frontend;
    private final KernelOptions kernelOptions;
    private final CountDownLatch loopEnded = new CountDownLatch(1);
    private boolean closed;

    /**
     * @param fuseOptions extra {@code -o} options (e.g. {@code allow_other}); the fixed ones and
     *                    {@code fsname=REGION} are added here
     */
    public FuseDaemon(Region region, FileSystem fs, Path mountpoint, String dax, List<String> fuseOptions,
                      Frontend frontend, KernelOptions kernelOptions) {
        this.region = region;
        this.fs = fs;
        this.mountpoint = mountpoint;
        this.dax = dax;
        this.fuseOptions = fuseOptions;
        this.frontend = frontend;
        this.kernelOptions = kernelOptions;
        this.stats = new LiveStats(fs, region.name(), mountpoint.toString(), dax);
    }

    private void mounted() {
        LOG.info("mounted {} at {} (dax={}, frontend={})", region.name(), mountpoint, dax, frontend);
    }

    /** The argv words after the mount point that jnr-fuse passes to fuse_main. */
    List<String> argv() {
        StringBuilder o = new StringBuilder("fsname=").append(escape(region.name())).append(',').append(FIXED_OPTIONS);
        for (String opt : fuseOptions) {
            o.append(',').append(opt);
        }
        return List.of("-o", o.toString());
    }

    /** libfuse's option parser takes a backslash as an escape, so commas in a path survive. */
    static String escape(String s) {
        return s.replace("\\", "\\\\").replace(",", "\\,");
    }

    /**
     * Mounts and serves until unmounted; then closes the filesystem and the region. Throws
     * {@link FuseException} or {@link KernelMount.Failure} when the mount is refused (after closing).
     */
    public void run() throws InterruptedException {
        Thread hook = new Thread(this::onSignal, "pmemfs-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            if (frontend == Frontend.KERNEL) {
                new KernelFrontend(fs, stats, kernelOptions).serve(mountpoint, region.name(), fuseOptions, this::mounted);
            } else {
                PmemFuse fuse = new PmemFuse(fs, "pmemfs", stats);
                fuse.onInit(this::mounted);
                fuse.mount(mountpoint, true, false, argv().toArray(new String[0]));
            }
        } finally {
            loopEnded.countDown();
            closeOnce();
        }
    }

    private void onSignal() {
        if (loopEnded.getCount() > 0) {
            LOG.info("signal: unmounting {}", mountpoint);
            String err = Fusermount.unmount(mountpoint, false);
            if (err != null) {
                LOG.info("unmount: {}; unmounting lazily", err);
                Fusermount.unmount(mountpoint, true);
            }
            try {
                if (!loopEnded.await(LOOP_WAIT_S, TimeUnit.SECONDS)) {
                    LOG.warn("FUSE loop still busy after {} s; closing the filesystem anyway", LOOP_WAIT_S);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeOnce();
    }

    /** Writes back every dirty page, marks the filesystem clean and closes the region; once. */
    synchronized void closeOnce() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            fs.close();
            region.close();
            LOG.info("unmounted {}: clean", region.name());
        } catch (RuntimeException e) {
            LOG.error("closing {} failed", region.name(), e);
        }
    }
}
