package dev.pmemfs.fs.core;

import dev.pmemfs.fs.layout.BlockCrc;
import dev.pmemfs.fs.layout.XattrBlock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Extended attributes in the {@code user.}, {@code trusted.} and {@code security.} namespaces,
 * kept in one journaled block per inode (4 KiB in all per inode).
 */
public final class Xattrs {
    public static final int XATTR_CREATE = 1;
    public static final int XATTR_REPLACE = 2;
    private static final int NAME_MAX = 255;
    private static final int VALUE_MAX = 4000;

    private final FileSystem fs;

    Xattrs(FileSystem fs) {
        this.fs = fs;
    }

    private Map<String, byte[]> load(Inode in) {
        if (in.xattrs == null) {
            in.xattrs = new LinkedHashMap<>();
            if (in.rec.xattrBlock != 0) {
                byte[] b = fs.journal.peek(in.rec.xattrBlock);
                if (!XattrBlock.valid(b)) {
                    in.xattrs = null;
                    throw new FsException(Errno.EIO, "inode " + in.ino + ": xattr block is corrupt (bad checksum)");
                }
                in.xattrs.putAll(XattrBlock.decode(b));
            }
        }
        return in.xattrs;
    }

    private static void checkName(String name) {
        if (name.isEmpty() || name.length() > NAME_MAX) {
            throw new FsException(Errno.ERANGE, "xattr name length");
        }
        if (!(name.startsWith("user.") || name.startsWith("trusted.") || name.startsWith("security."))) {
            throw new FsException(Errno.EOPNOTSUPP, "xattr namespace not supported: " + name);
        }
    }

    public byte[] get(long ino, String name) {
        checkName(name);
        fs.lock.lock();
        try {
            byte[] v = load(fs.inode(ino)).get(name);
            if (v == null) {
                throw new FsException(Errno.ENODATA, name);
            }
            return v.clone();
        } finally {
            fs.lock.unlock();
        }
    }

    public List<String> list(long ino) {
        fs.lock.lock();
        try {
            return new ArrayList<>(load(fs.inode(ino)).keySet());
        } finally {
            fs.lock.unlock();
        }
    }

    public void set(long ino, String name, byte[] value, int flags) {
        checkName(name);
        if (value.length > VALUE_MAX) {
            throw new FsException(Errno.E2BIG, "xattr value larger than " + VALUE_MAX + " bytes");
        }
        fs.lock.lock();
        try {
            fs.begin();
            Inode in = fs.inode(ino);
            Map<String, byte[]> attrs = load(in);
            boolean exists = attrs.containsKey(name);
            if ((flags & XATTR_CREATE) != 0 && exists) {
                throw new FsException(Errno.EEXIST, name);
            }
            if ((flags & XATTR_REPLACE) != 0 && !exists) {
                throw new FsException(Errno.ENODATA, name);
            }
            Map<String, byte[]> next = new LinkedHashMap<>(attrs);
            next.put(name, value.clone());
            if (XattrBlock.encodedSize(next) > BlockCrc.PAYLOAD) {
                throw new FsException(Errno.ENOSPC, "no room for more extended attributes on this inode");
            }
            store(in, next);
        } finally {
            fs.lock.unlock();
        }
    }

    public void remove(long ino, String name) {
        checkName(name);
        fs.lock.lock();
        try {
            fs.begin();
            Inode in = fs.inode(ino);
            Map<String, byte[]> attrs = load(in);
            if (!attrs.containsKey(name)) {
                throw new FsException(Errno.ENODATA, name);
            }
            Map<String, byte[]> next = new LinkedHashMap<>(attrs);
            next.remove(name);
            store(in, next);
        } finally {
            fs.lock.unlock();
        }
    }

    private void store(Inode in, Map<String, byte[]> attrs) {
        if (attrs.isEmpty()) {
            if (in.rec.xattrBlock != 0) {
                fs.alloc.freeBlock(in.rec.xattrBlock);
                in.rec.xattrBlock = 0;
                in.rec.blocks--;
            }
        } else {
            if (in.rec.xattrBlock == 0) {
                in.rec.xattrBlock = fs.alloc.allocBlock();
                in.rec.blocks++;
            }
            fs.journal.put(in.rec.xattrBlock, XattrBlock.encode(attrs));
        }
        in.xattrs = attrs;
        FileSystem.touch(in.rec, false, true, false);
        fs.save(in);
    }
}
