package dev.pmemfs.fs.fuse;

import jnr.ffi.Pointer;
import ru.serce.jnrfuse.struct.FuseFileInfo;

/**
 * The bit fields of libfuse 2's {@code struct fuse_file_info}, which jnr-fuse 0.5.8 declares as
 * padding and so cannot set: in the C layout (LP64) they share the int at byte 20, bit 0
 * {@code direct_io}, bit 1 {@code keep_cache}, bit 2 {@code flush}, bit 3 {@code nonseekable}.
 */
final class FileInfoBits {
    private static final int OFFSET = 20;
    private static final int DIRECT_IO = 1;

    private FileInfoBits() {
    }

    /** Opens the file with {@code direct_io}: the kernel page cache is bypassed (and mmap refused). */
    static void setDirectIo(FuseFileInfo fi) {
        Pointer mem = jnr.ffi.Struct.getMemory(fi);
        mem.putInt(OFFSET, mem.getInt(OFFSET) | DIRECT_IO);
    }
}
