"""Operations only the kernel frontend offers, checked on a mount: python3 kernel_ops.py DIR.
Prints one line per check and exits non-zero at the first failure."""
import ctypes, errno, os, stat, sys

d = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
SEEK_DATA, SEEK_HOLE = 3, 4
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
AT_FDCWD = -100


def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        sys.exit(1)


def renameat2(a, b, flags):
    rc = libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), flags)
    return 0 if rc == 0 else ctypes.get_errno()


# lseek SEEK_DATA / SEEK_HOLE over a file with a hole in the middle
f = os.path.join(d, "sparse")
fd = os.open(f, os.O_RDWR | os.O_CREAT, 0o644)
os.pwrite(fd, b"a" * 4096, 0)
os.pwrite(fd, b"b" * 4096, 1 << 20)
check("SEEK_HOLE from 0 finds the hole at 4096", os.lseek(fd, 0, SEEK_HOLE) == 4096)
check("SEEK_DATA from 8192 finds data at 1 MiB", os.lseek(fd, 8192, SEEK_DATA) == 1 << 20)
try:
    os.lseek(fd, (1 << 20) + 4096, SEEK_DATA)
    check("SEEK_DATA at end of file answers ENXIO", False)
except OSError as e:
    check("SEEK_DATA at end of file answers ENXIO", e.errno == errno.ENXIO)

# copy_file_range
g = os.path.join(d, "copy")
gd = os.open(g, os.O_RDWR | os.O_CREAT, 0o644)
n = os.copy_file_range(fd, gd, (1 << 20) + 4096, 0, 0)
os.close(gd)
with open(f, "rb") as a, open(g, "rb") as b:
    check("copy_file_range copies every byte", n == (1 << 20) + 4096 and a.read() == b.read())
check("copy_file_range keeps the hole", os.stat(g).st_blocks * 512 < 1 << 20)

# fallocate
os.posix_fallocate(fd, 0, 4 << 20)
check("fallocate extends the file and allocates blocks",
      os.fstat(fd).st_size == 4 << 20 and os.fstat(fd).st_blocks >= (4 << 20) // 512)
os.close(fd)

# rename2 flags
x, y = os.path.join(d, "x"), os.path.join(d, "y")
open(x, "w").write("X")
open(y, "w").write("Y")
check("RENAME_NOREPLACE onto an existing name: EEXIST", renameat2(x, y, RENAME_NOREPLACE) == errno.EEXIST)
check("RENAME_EXCHANGE swaps", renameat2(x, y, RENAME_EXCHANGE) == 0
      and open(x).read() == "Y" and open(y).read() == "X")

# exact link counts: one kernel inode per pmemfs inode
l1, l2 = os.path.join(d, "l1"), os.path.join(d, "sub", "l2")
os.mkdir(os.path.join(d, "sub"))
open(l1, "w").write("L")
os.link(l1, l2)
check("a hard link counts 2 on both names", os.stat(l1).st_nlink == 2 and os.stat(l2).st_nlink == 2
      and os.stat(l1).st_ino == os.stat(l2).st_ino)
os.unlink(l2)
check("after unlink the other name counts 1", os.stat(l1).st_nlink == 1)

# special files
p = os.path.join(d, "fifo")
os.mkfifo(p)
check("mkfifo makes a FIFO", stat.S_ISFIFO(os.stat(p).st_mode))
