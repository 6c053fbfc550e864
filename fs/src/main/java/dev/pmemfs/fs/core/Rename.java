package dev.pmemfs.fs.core;

import dev.pmemfs.fs.layout.DirBlock;

/**
 * rename(2) with the POSIX rules: over an existing file, of directories (never into their own
 * subtree), RENAME_NOREPLACE and RENAME_EXCHANGE. Called with the filesystem's lock held.
 */
final class Rename {
    private final FileSystem fs;

    Rename(FileSystem fs) {
        this.fs = fs;
    }

    void run(long fromDirIno, String from, long toDirIno, String to, int flags) {
        if ((flags & ~(FileSystem.RENAME_NOREPLACE | FileSystem.RENAME_EXCHANGE)) != 0
                || flags == (FileSystem.RENAME_NOREPLACE | FileSystem.RENAME_EXCHANGE)) {
            throw new FsException(Errno.EINVAL, "bad rename flags " + flags);
        }
        for (String n : new String[] {from, to}) {
            if (n.equals(".") || n.equals("..")) {
                throw new FsException(Errno.EBUSY, "rename of . or ..");
            }
        }
        FileSystem.checkName(from);
        FileSystem.checkName(to);
        Inode fd = fs.inode(fromDirIno);
        Inode td = fs.inode(toDirIno);
        fs.dir(fd);
        fs.dir(td);
        DirBlock.Entry src = fs.entry(fd, from);
        if (src == null) {
            throw new FsException(Errno.ENOENT, from);
        }
        Inode moved = fs.inode(src.ino());
        DirBlock.Entry dst = fs.entry(td, to);
        // The checks below come in the order Linux's do_renameat2 makes them, so that a caller
        // with several mistakes at once gets the kernel's errno.
        if (dst != null && (flags & FileSystem.RENAME_NOREPLACE) != 0) {
            throw new FsException(Errno.EEXIST, to + " exists");
        }
        if (dst == null && (flags & FileSystem.RENAME_EXCHANGE) != 0) {
            throw new FsException(Errno.ENOENT, to);
        }
        if (fd != td && isAncestor(moved.ino, td.ino)) {
            throw new FsException(Errno.EINVAL, "cannot move a directory into itself");
        }
        if (dst != null && fd != td && isAncestor(dst.ino(), fd.ino)) {
            throw (flags & FileSystem.RENAME_EXCHANGE) != 0
                    ? new FsException(Errno.EINVAL, "cannot move a directory into itself")
                    : new FsException(Errno.ENOTEMPTY, to + " is an ancestor of " + from);
        }
        if (dst != null && dst.ino() == src.ino()) {
            return; // both names are links to one inode: POSIX says do nothing
        }
        if ((flags & FileSystem.RENAME_EXCHANGE) != 0) {
            exchange(fd, from, td, to, moved, fs.inode(dst.ino()));
            return;
        }
        Inode victim = dst == null ? null : fs.inode(dst.ino());
        if (victim != null) {
            if (moved.rec.isDir() && !victim.rec.isDir()) {
                throw new FsException(Errno.ENOTDIR, to + " is not a directory");
            }
            if (!moved.rec.isDir() && victim.rec.isDir()) {
                throw new FsException(Errno.EISDIR, to + " is a directory");
            }
            if (victim.rec.isDir() && fs.dir(victim).size() > 0) {
                throw new FsException(Errno.ENOTEMPTY, to + " is not empty");
            }
        } else if (moved.rec.isDir() && fd != td && td.rec.nlink >= FileSystem.LINK_MAX) {
            throw new FsException(Errno.EMLINK, "too many subdirectories");
        }
        if (victim == null) {
            fs.addEntry(td, to, moved); // the one step that can fail with ENOSPC: do it first
            fs.removeEntry(fd, from);
        } else {
            fs.replaceEntry(td, to, moved);
            fs.removeEntry(fd, from);
            if (victim.rec.isDir()) {
                td.rec.nlink--;
            }
            fs.unlinkInode(victim);
        }
        if (moved.rec.isDir() && fd != td) {
            moved.rec.parent = td.ino;
            fd.rec.nlink--;
            td.rec.nlink++;
        }
        FileSystem.touch(moved.rec, false, true, false);
        FileSystem.touch(fd.rec, true, true, false);
        FileSystem.touch(td.rec, true, true, false);
        fs.save(moved);
        fs.save(fd);
        fs.save(td);
    }

    private void exchange(Inode fd, String from, Inode td, String to, Inode a, Inode b) {
        fs.replaceEntry(fd, from, b);
        fs.replaceEntry(td, to, a);
        if (fd != td) {
            if (a.rec.isDir()) {
                a.rec.parent = td.ino;
                fd.rec.nlink--;
                td.rec.nlink++;
            }
            if (b.rec.isDir()) {
                b.rec.parent = fd.ino;
                td.rec.nlink--;
                fd.rec.nlink++;
            }
        }
        for (Inode in : new Inode[] {a, b, fd, td}) {
            FileSystem.touch(in.rec, false, true, false);
            fs.save(in);
        }
    }

    /** Whether directory {@code ancestor} is {@code dir} or lies on its path to the root. */
    private boolean isAncestor(long ancestor, long dir) {
        long d = dir;
        for (int depth = 0; depth < 1 << 16; depth++) {
            if (d == ancestor) {
                return true;
            }
            if (d == FileSystem.ROOT) {
                return false;
            }
            d = fs.inode(d).rec.parent;
        }
        throw new FsException(Errno.EIO, "directory parents form a loop");
    }
}
