package dev.pmemfs.fs.kernel;

import dev.pmemfs.fs.os.Syscalls;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A request handler's wire in a test: requests laid out in a buffer as the kernel would, and
 * a {@link Reply} that writes to a temporary file instead of {@code /dev/fuse}, read back.
 * One per test; {@link #close} removes the file.
 */
final class ReplyFile implements AutoCloseable {
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    /** What {@link #send} answers when no reply was written (FORGET). */
    static final int NO_REPLY = Integer.MIN_VALUE;

    private final Arena arena = Arena.ofConfined();
    private final Path replies;
    private final int fd;
    final Reply reply;
    final Request request;
    /** Where the last reply starts in the file. */
    private long last;

    ReplyFile() throws IOException {
        replies = Files.createTempFile("pmemfs-replies", ".bin");
        fd = Syscalls.open(replies.toString(), Syscalls.O_RDWR);
        assertTrue(fd >= 0);
        reply = new Reply(fd, arena.allocate(Session.REPLY_BUFFER));
        request = new Request(arena.allocate(Session.REQUEST_BUFFER));
    }

    /** Lays out a request with {@code body}, hands it to {@code handler}; returns the reply's error, or {@link #NO_REPLY}. */
    int send(RequestHandler handler, int opcode, long nodeid, byte[] body) throws IOException {
        MemorySegment b = request.buffer();
        long len = Request.HEADER + body.length;
        b.set(U32, 0, (int) len);
        b.set(U32, 4, opcode);
        b.set(U64, 8, 77L);
        b.set(U64, 16, nodeid);
        MemorySegment.copy(body, 0, b, ValueLayout.JAVA_BYTE, Request.HEADER, body.length);
        assertTrue(request.parse(len));
        long before = Files.size(replies);
        handler.dispatch(request, reply);
        ByteBuffer r = ByteBuffer.wrap(Files.readAllBytes(replies)).order(ByteOrder.LITTLE_ENDIAN);
        if (r.limit() == before) {
            return NO_REPLY;
        }
        last = before;
        r.position((int) before);
        assertEquals(r.limit() - before, r.getInt(), "reply length");
        int error = r.getInt();
        assertEquals(77L, r.getLong(), "unique");
        return error;
    }

    /** The payload of the last reply, as written. */
    byte[] lastPayload() throws IOException {
        byte[] all = Files.readAllBytes(replies);
        return Arrays.copyOfRange(all, (int) last + (int) Reply.HEADER, all.length);
    }

    @Override
    public void close() throws IOException {
        Syscalls.close(fd);
        Files.deleteIfExists(replies);
        arena.close();
    }
}
