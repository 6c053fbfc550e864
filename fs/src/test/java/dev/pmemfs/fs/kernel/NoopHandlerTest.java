package dev.pmemfs.fs.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The bench's no-op handler in process: files keep a size but no data; reads answer zeros. */
final class NoopHandlerTest {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final long ATTR_SIZE = FuseAbi.off(FuseAbi.ATTR, "size");

    private final NoopHandler handler = new NoopHandler(1_000_000_000L);
    private ReplyFile wire;
    private Reply reply;

    @BeforeEach
    void setUp() throws IOException {
        wire = new ReplyFile();
        reply = wire.reply;
    }

    @AfterEach
    void tearDown() throws IOException {
        wire.close();
    }

    /** Dispatches a request with {@code body}; returns the reply's error, and its payload length in {@code len[0]}. */
    private int send(int opcode, long nodeid, byte[] body, long[] len) throws IOException {
        int error = wire.send(handler, opcode, nodeid, body);
        len[0] = wire.lastPayload().length;
        return error;
    }

    private static byte[] cstr(String s) {
        byte[] n = s.getBytes(StandardCharsets.UTF_8);
        return java.util.Arrays.copyOf(n, n.length + 1);
    }

    @Test
    void writesGrowTheFileAndReadsAnswerZerosUpToItsSize() throws IOException {
        long[] len = new long[1];
        byte[] name = cstr("f");
        ByteBuffer create = ByteBuffer.allocate(16 + name.length).order(ByteOrder.LITTLE_ENDIAN);
        create.putInt(2).putInt(0100644).putInt(022).putInt(0).put(name);
        assertEquals(0, send(FuseAbi.CREATE, 1, create.array(), len));
        long ino = reply.payload().get(U64, 0);
        long fh = reply.payload().get(U64, Wire.ENTRY_SIZE);

        ByteBuffer write = ByteBuffer.allocate(40 + 4096).order(ByteOrder.LITTLE_ENDIAN);
        write.putLong(fh).putLong(8192).putInt(4096).putInt(0).putLong(0).putInt(0).putInt(0);
        for (int i = 0; i < 4096; i++) {
            write.put((byte) 0x5a);
        }
        assertEquals(0, send(FuseAbi.WRITE, ino, write.array(), len));
        assertEquals(4096, reply.payload().get(U32, 0), "bytes written");

        reply.payload().asSlice(0, 65536).fill((byte) 0x77); // what an earlier reply left
        ByteBuffer read = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
        read.putLong(fh).putLong(10000).putInt(65536);
        assertEquals(0, send(FuseAbi.READ, ino, read.array(), len));
        assertEquals(12288 - 10000, len[0], "a read stops at the size");
        for (long i = 0; i < len[0]; i++) {
            assertEquals(0, reply.payload().get(ValueLayout.JAVA_BYTE, i), "byte " + i);
        }

        assertEquals(0, send(FuseAbi.LOOKUP, 1, name, len));
        assertEquals(12288, reply.payload().get(U64, FuseAbi.off(FuseAbi.ENTRY_OUT, "attr") + ATTR_SIZE));
        assertEquals(0, send(FuseAbi.UNLINK, 1, name, len));
        assertEquals(0, send(FuseAbi.LOOKUP, 1, name, len));
        assertEquals(0L, reply.payload().get(U64, 0), "gone: a negative entry (node id 0)");
        assertEquals(-38, send(FuseAbi.SYMLINK, 1, cstr("x"), len), "what it does not do: ENOSYS");
    }
}
