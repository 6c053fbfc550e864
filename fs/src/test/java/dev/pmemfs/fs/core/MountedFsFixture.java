package dev.pmemfs.fs.core;

import dev.pmemfs.device.CrashingRegion;
import org.junit.jupiter.api.AfterEach;

/**
 * The fixture of the core's tests: a small in-memory region, formatted, with the filesystem
 * mounted on it, closed after each test. A test may close or abandon {@link #fs} and set it to
 * null (a simulated crash), or replace {@link #region}; whatever is left open is closed here.
 */
abstract class MountedFsFixture {
    protected CrashingRegion region;
    protected FileSystem fs;
    protected MountOptions opts = MountOptions.defaults();

    /** Formats a region of {@code size} bytes (4 KiB per inode) and mounts it with {@code options}. */
    protected void start(long size, MountOptions options) {
        region = CrashingRegion.create(size);
        Format.mkfs(region, 4096, false, p -> { });
        opts = options;
        fs = FileSystem.mount(region, opts);
    }

    /** Unmounts cleanly and mounts again with the same options. */
    protected void remount() {
        fs.close();
        fs = FileSystem.mount(region, opts);
    }

    @AfterEach
    void closeFixture() {
        if (fs != null) {
            fs.close();
        }
        if (region != null) {
            region.close();
        }
    }
}
