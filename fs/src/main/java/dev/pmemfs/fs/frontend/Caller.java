package dev.pmemfs.fs.frontend;

import dev.pmemfs.fs.core.Attr;
import dev.pmemfs.fs.core.FileSystem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process behind one FUSE request (its header's uid, gid and pid; libfuse's
 * {@code fuse_context}), as the set-ID rules see it.
 *
 * <p>Why it exists: the kernel leaves clearing the set-user-ID and set-group-ID bits to the
 * filesystem in several cases: on a file opened with {@code direct_io} under libfuse 2 (the
 * kernel only sets FUSE_WRITE_KILL_SUIDGID, which libfuse 2 drops), always under
 * FUSE_HANDLE_KILLPRIV_V2 (the kernel frontend), and on every path for the VFS's "caller
 * outside the file's group" case of a set-group-ID file without group-execute
 * ({@code setattr_should_drop_sgid}), which FUSE's own contract leaves out. Both frontends do
 * it here. A caller with filesystem uid 0 is taken to hold CAP_FSETID (a non-zero fsuid drops
 * it); the supplementary groups come from {@code /proc/PID/status}. Immutable.
 */
public record Caller(int uid, int gid, long pid) {
    public boolean privileged() {
        return uid == 0;
    }

    /** Whether the caller's fsgid or one of its supplementary groups is {@code group}. */
    public boolean inGroup(int group) {
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
    public void dropSetIdBits(FileSystem fs, long ino) {
        if (!privileged()) {
            killFlagged(fs, ino);
        }
    }

    /**
     * What the kernel asked for with FUSE_WRITE_KILL_SUIDGID or FATTR_KILL_SUIDGID (it has
     * checked CAP_FSETID where the rule needs it): clears set-user-ID, and set-group-ID when
     * group-execute is set or, for a caller without CAP_FSETID, when it is outside the group.
     */
    public void killFlagged(FileSystem fs, long ino) {
        Attr a = fs.getattr(ino);
        if (!a.isRegular() || (a.mode() & 06000) == 0) {
            return;
        }
        boolean sgidWithoutExec = (a.mode() & 02010) == 02000; // only then does the group matter
        fs.killPriv(ino, !sgidWithoutExec || privileged() || inGroup(a.gid()));
    }
}
