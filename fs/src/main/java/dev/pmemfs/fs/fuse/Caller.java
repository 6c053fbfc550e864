package dev.pmemfs.fs.fuse;

import dev.pmemfs.fs.core.Attr;
import dev.pmemfs.fs.core.FileSystem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process behind one FUSE request (libfuse's {@code fuse_context}), as the set-ID rules
 * see it: its filesystem uid and gid, and its thread id for its supplementary groups.
 *
 * <p>Why it exists: on a file opened with {@code direct_io} (DAX files, O_DIRECT opens) the
 * kernel leaves clearing the set-user-ID and set-group-ID bits after a write to the
 * filesystem (it only sets FUSE_WRITE_KILL_SUIDGID, which libfuse 2 drops); and on every path
 * it leaves out the VFS's "caller outside the file's group" case for a set-group-ID file
 * without group-execute. pmemfs does both here, as {@code setattr_should_drop_suidgid} does.
 * A caller with filesystem uid 0 is taken to hold CAP_FSETID (a non-zero fsuid drops it).
 * Immutable.
 */
record Caller(int uid, int gid, long pid) {
    boolean privileged() {
        return uid == 0;
    }

    /** Whether the caller's fsgid or one of its supplementary groups is {@code group}. */
    boolean inGroup(int group) {
        if (gid == group) {
            return true;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("Groups:")) {
                    for (String g : line.substring(7).trim().split("\\s+")) {
                        if (!g.isEmpty() && Long.parseLong(g) == (group & 0xffffffffL)) {
                            return true;
                        }
                    }
                }
            }
        } catch (IOException | NumberFormatException e) {
            return false; // the caller is gone, or unreadable: treat it as outside the group
        }
        return false;
    }

    /**
     * After a write, truncate or chown of {@code ino} by this caller: clears set-user-ID, and
     * set-group-ID when group-execute is set or the caller is outside the file's group.
     * Nothing for root, and nothing (not even a lookup of the groups) when no bit is set.
     */
    void dropSetIdBits(FileSystem fs, long ino) {
        if (privileged()) {
            return;
        }
        Attr a = fs.getattr(ino);
        if (!a.isRegular() || (a.mode() & 06000) == 0) {
            return;
        }
        boolean sgidWithoutExec = (a.mode() & 02010) == 02000; // only then does the group matter
        fs.killPriv(ino, !sgidWithoutExec || inGroup(a.gid()));
    }
}
