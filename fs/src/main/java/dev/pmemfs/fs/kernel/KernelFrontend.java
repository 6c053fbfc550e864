package dev.pmemfs.fs.kernel;

import dev.pmemfs.fs.core.FileSystem;
import dev.pmemfs.fs.frontend.LiveStats;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * pmemfs served on {@code /dev/fuse} directly: mounts through fusermount3, answers INIT and
 * runs the workers until the mount goes away. One per mount; {@link #serve} runs once.
 */
public final class KernelFrontend {
    private static final Logger LOG = LoggerFactory.getLogger(KernelFrontend.class);
    /** Options every mount gets: the kernel checks permissions; fusermount3 unmounts if we die. */
    static final String FIXED_OPTIONS = "subtype=pmemfs,default_permissions,auto_unmount";
    /** libfuse's own options, meaningless here (the kernel frontend sets what they set itself). */
    private static final Set<String> LIBFUSE_ONLY = Set.of("big_writes", "max_write", "use_ino", "attr_timeout",
            "entry_timeout", "negative_timeout", "kernel_cache", "auto_cache", "direct_io", "max_read", "max_readahead");

    private final KernelOptions options;
    private final RequestHandler handler;

    public KernelFrontend(FileSystem fs, LiveStats stats, KernelOptions options) {
        this(options, new Dispatcher(fs, stats, options));
    }

    private KernelFrontend(KernelOptions options, RequestHandler handler) {
        this.options = options;
        this.handler = handler;
    }

    /** A frontend that serves {@link NoopHandler}'s no-op filesystem, not pmemfs: the bench's measure of this frontend alone. */
    public static KernelFrontend noop(KernelOptions options) {
        return new KernelFrontend(options, new NoopHandler(options.timeoutNanos()));
    }

    /** What fusermount3 and the kernel take (fusermount.c's tables): mount flags and FUSE's own. */
    private static final Set<String> MOUNT_OPTIONS = Set.of("rw", "ro", "suid", "nosuid", "dev", "nodev", "exec",
            "noexec", "async", "sync", "dirsync", "atime", "noatime", "diratime", "nodiratime", "relatime", "norelatime",
            "strictatime", "nostrictatime", "lazytime", "nolazytime", "allow_other", "default_permissions", "auto_unmount",
            "fsname", "subtype", "blksize", "context", "fscontext", "defcontext", "rootcontext");

    /**
     * fusermount3's {@code -o} list: fsname, the fixed options, then the user's (libfuse-only ones
     * dropped). An option neither takes fails here, in libfuse's words, before anything is mounted.
     */
    static String mountOptions(String fsname, List<String> user) {
        StringBuilder o = new StringBuilder("fsname=").append(escape(fsname)).append(',').append(FIXED_OPTIONS);
        for (String opt : user) {
            String key = opt.contains("=") ? opt.substring(0, opt.indexOf('=')) : opt;
            if (LIBFUSE_ONLY.contains(key)) {
                LOG.info("-o {}: a libfuse option, not used by the kernel frontend", opt);
            } else if (MOUNT_OPTIONS.contains(key)) {
                o.append(',').append(opt);
            } else {
                throw new KernelMount.Failure("unknown option `" + opt + "'");
            }
        }
        return o.toString();
    }

    /** Commas in a path survive fusermount3's option parser escaped with a backslash. */
    static String escape(String s) {
        return s.replace("\\", "\\\\").replace(",", "\\,");
    }

    /**
     * Mounts {@code fsname} at {@code mountpoint}, runs {@code onMounted} once INIT is answered,
     * and serves until unmounted. Throws {@link KernelMount.Failure} when the mount is refused.
     */
    public void serve(Path mountpoint, String fsname, List<String> userOptions, Runnable onMounted) throws InterruptedException {
        String fuseOptions = mountOptions(fsname, userOptions);
        try (KernelMount mount = KernelMount.mount(mountpoint, fuseOptions)) {
            Session session = new Session(mount.fd(), handler, options);
            session.init();
            onMounted.run();
            session.run();
        }
    }

    /** Number of files open through this mount. */
    public int openFiles() {
        return handler.openFiles();
    }
}
