package dev.pmemfs.fs.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.pmemfs.device.CrashingRegion;
import dev.pmemfs.fs.core.Format;
import dev.pmemfs.fs.core.FileSystem;
import dev.pmemfs.fs.core.MountOptions;
import dev.pmemfs.fs.frontend.LiveStats;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The dispatcher in process: requests laid out as the kernel would, replies written to a file
 * instead of /dev/fuse and read back. Malformed and unknown requests must get an errno.
 */
final class DispatcherTest {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;

    private CrashingRegion region;
    private FileSystem fs;
    private Dispatcher dispatcher;
    private ReplyFile wire;
    private Reply reply;

    @BeforeEach
    void setUp() throws IOException {
        region = CrashingRegion.create(32L << 20);
        Format.mkfs(region, 4096, false, p -> { });
        fs = FileSystem.mount(region, MountOptions.defaults());
        dispatcher = new Dispatcher(fs, new LiveStats(fs, "test", "/mnt", "never"), KernelOptions.defaults());
        wire = new ReplyFile();
        reply = wire.reply;
    }

    @AfterEach
    void tearDown() throws IOException {
        wire.close();
        fs.close();
        region.close();
    }

    /** Dispatches a request with {@code body}; returns the reply's error, or {@link ReplyFile#NO_REPLY}. */
    private int send(int opcode, long nodeid, byte[] body) throws IOException {
        return wire.send(dispatcher, opcode, nodeid, body);
    }

    private static byte[] cstr(String s) {
        byte[] n = s.getBytes(StandardCharsets.UTF_8);
        byte[] b = new byte[n.length + 1];
        System.arraycopy(n, 0, b, 0, n.length);
        return b;
    }

    @Test
    void unknownOpcode_answersEnosys() throws IOException {
        assertEquals(-38, send(4242, 1, new byte[0]));
    }

    @Test
    void nameWithoutNul_answersEinval() throws IOException {
        assertEquals(-22, send(FuseAbi.LOOKUP, 1, "abc".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void shortWrite_answersEinvalAndNextRequestWorks() throws IOException {
        assertEquals(-22, send(FuseAbi.WRITE, 1, new byte[12]));
        assertEquals(0, send(FuseAbi.LOOKUP, 1, cstr("missing")));
    }

    @Test
    void mkdirThenLookup_findTheSameInode() throws IOException {
        byte[] name = cstr("d");
        ByteBuffer mk = ByteBuffer.allocate(8 + name.length).order(ByteOrder.LITTLE_ENDIAN);
        mk.putInt(040755).putInt(022).put(name);
        assertEquals(0, send(FuseAbi.MKDIR, 1, mk.array()));
        assertEquals(0, send(FuseAbi.LOOKUP, 1, name));
        assertEquals(fs.lookup(1, "d"), reply.payload().get(U64, 0), "nodeid in fuse_entry_out");
    }

    @Test
    void lookupUnderARegularFile_answersEnotdirNotANegativeEntry() throws IOException {
        byte[] name = cstr("f");
        ByteBuffer mk = ByteBuffer.allocate(16 + name.length).order(ByteOrder.LITTLE_ENDIAN);
        mk.putInt(0100644).putInt(0).putInt(0).putInt(0).put(name);
        assertEquals(0, send(FuseAbi.MKNOD, 1, mk.array()));
        long f = reply.payload().get(U64, 0);
        assertEquals(-20, send(FuseAbi.LOOKUP, f, cstr("x")));
    }

    @Test
    void ioctlAskingForMoreThanTheBuffer_answersEinval() throws IOException {
        ByteBuffer in = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        in.putLong(0).putInt(0).putInt(0x801C581F).putLong(0).putInt(0).putInt(Integer.MAX_VALUE);
        assertEquals(-22, send(FuseAbi.IOCTL, 1, in.array()));
    }

    @Test
    void ioctlGetFsxattr_answersTheDaxFlag() throws IOException {
        ByteBuffer in = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        in.putLong(0).putInt(0).putInt(0x801C581F).putLong(0).putInt(0).putInt(28);
        fs.setDaxFlag(1, true);
        assertEquals(0, send(FuseAbi.IOCTL, 1, in.array()));
        assertEquals(0x8000, reply.payload().get(U32, 16), "fsx_xflags after fuse_ioctl_out");
    }

    @Test
    void forget_getsNoReply() throws IOException {
        assertEquals(ReplyFile.NO_REPLY, send(FuseAbi.FORGET, 1, new byte[8]));
    }

    @Test
    void readOfUnknownHandle_answersEbadf() throws IOException {
        assertEquals(-9, send(FuseAbi.READ, 1, new byte[40]));
    }

    private int mkdir(long parent, String name) throws IOException {
        byte[] n = cstr(name);
        ByteBuffer mk = ByteBuffer.allocate(8 + n.length).order(ByteOrder.LITTLE_ENDIAN);
        mk.putInt(040755).putInt(022).put(n);
        return send(FuseAbi.MKDIR, parent, mk.array());
    }

    private void forget(long nodeid, long n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(n);
        assertEquals(ReplyFile.NO_REPLY, send(FuseAbi.FORGET, nodeid, b.array()));
    }

    @Test
    void removedDirectoryTheKernelHolds_keepsItsNumberUntilForgotten() throws IOException {
        assertEquals(0, mkdir(1, "cwd"));
        long old = reply.payload().get(U64, 0);
        assertEquals(1, dispatcher.lookups().count(old));
        assertEquals(0, send(FuseAbi.RMDIR, 1, cstr("cwd")));
        assertEquals(-2, send(FuseAbi.GETATTR, old, new byte[16]), "the removed node answers ENOENT");

        assertEquals(0, mkdir(1, "new"));
        long fresh = reply.payload().get(U64, 0);
        assertNotEquals(old, fresh, "a freed number the kernel still holds is not handed out again");
        assertEquals(-2, send(FuseAbi.GETATTR, old, new byte[16]), "the old node does not reach the new inode");

        forget(old, 1);
        assertEquals(0, dispatcher.lookups().count(old));
        assertEquals(0, mkdir(1, "after"));
        assertEquals(old, reply.payload().get(U64, 0), "once forgotten, the number is free again");
    }

    @Test
    void lookupsCountUpAndBatchForgetCountsDown() throws IOException {
        assertEquals(0, mkdir(1, "a"));
        long a = reply.payload().get(U64, 0);
        assertEquals(0, mkdir(1, "b"));
        long b = reply.payload().get(U64, 0);
        assertEquals(0, send(FuseAbi.LOOKUP, 1, cstr("a")));
        assertEquals(0, send(FuseAbi.LOOKUP, 1, cstr("a")));
        assertEquals(0, send(FuseAbi.LOOKUP, 1, cstr("missing")));
        assertEquals(0, reply.payload().get(U64, 0), "a missing name: a negative entry, node id 0");
        assertEquals(KernelOptions.defaults().timeoutNanos() / 1_000_000_000L,
                reply.payload().get(U64, FuseAbi.off(FuseAbi.ENTRY_OUT, "entry_valid")), "kept as long as a positive one");
        assertFalse(dispatcher.lookups().held(0), "a negative entry counts nothing");
        assertEquals(3, dispatcher.lookups().count(a));

        ByteBuffer batch = ByteBuffer.allocate(8 + 3 * 16).order(ByteOrder.LITTLE_ENDIAN);
        batch.putInt(3).putInt(0).putLong(a).putLong(2).putLong(b).putLong(1).putLong(999).putLong(5);
        assertEquals(ReplyFile.NO_REPLY, send(FuseAbi.BATCH_FORGET, 0, batch.array()));
        assertEquals(1, dispatcher.lookups().count(a));
        assertFalse(dispatcher.lookups().held(b));

        ByteBuffer lying = ByteBuffer.allocate(8 + 16).order(ByteOrder.LITTLE_ENDIAN);
        lying.putInt(1000).putInt(0).putLong(a).putLong(1);
        assertEquals(ReplyFile.NO_REPLY, send(FuseAbi.BATCH_FORGET, 0, lying.array()), "a count past the body is cut, not fatal");
        assertFalse(dispatcher.lookups().held(a));
    }

    @Test
    void readdirplus_countsEachEntryButDotAndDotdot() throws IOException {
        assertEquals(0, mkdir(1, "x"));
        long x = reply.payload().get(U64, 0);
        forget(x, 1);
        assertEquals(0, send(FuseAbi.OPENDIR, 1, new byte[8]));
        long fh = reply.payload().get(U64, 0);
        ByteBuffer rd = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
        rd.putLong(fh).putLong(0).putInt(65536);
        assertEquals(0, send(FuseAbi.READDIRPLUS, 1, rd.array()));
        assertEquals(1, dispatcher.lookups().count(x));
        assertFalse(dispatcher.lookups().held(1), "neither . nor .. is counted");
    }

    @Test
    void readOfMappedBlocks_goesOutFromThePageAndAHoleReadsZeros() throws IOException {
        byte[] name = cstr("f");
        ByteBuffer create = ByteBuffer.allocate(16 + name.length).order(ByteOrder.LITTLE_ENDIAN);
        create.putInt(2).putInt(0100644).putInt(022).putInt(0).put(name);
        assertEquals(0, send(FuseAbi.CREATE, 1, create.array()));
        long ino = reply.payload().get(U64, 0);
        long fh = reply.payload().get(U64, Wire.ENTRY_SIZE);
        byte[] data = new byte[3 * 4096 + 100];
        new java.util.Random(7).nextBytes(data);
        ByteBuffer write = ByteBuffer.allocate(40 + data.length).order(ByteOrder.LITTLE_ENDIAN);
        write.putLong(fh).putLong(0).putInt(data.length).putInt(0).putLong(0).putInt(0).putInt(0).put(data);
        assertEquals(0, send(FuseAbi.WRITE, ino, write.array()));

        reply.payload().asSlice(0, 65536).fill((byte) 0x77);
        ByteBuffer read = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
        read.putLong(fh).putLong(1000).putInt(65536);
        assertEquals(0, send(FuseAbi.READ, ino, read.array()));
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 1000, data.length), wire.lastPayload(), "pages 0..3 from offset 1000");
        assertEquals((byte) 0x77, reply.payload().get(ValueLayout.JAVA_BYTE, 0), "not copied into the reply buffer");

        fs.truncate(ino, 1 << 20); // a hole after the data
        read.clear();
        read.putLong(fh).putLong(8192).putInt(16384);
        assertEquals(0, send(FuseAbi.READ, ino, read.array()));
        byte[] want = new byte[16384];
        System.arraycopy(data, 8192, want, 0, data.length - 8192);
        assertArrayEquals(want, wire.lastPayload(), "data, then the hole's zeros");
    }
}
