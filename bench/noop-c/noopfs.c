/*
 * noopfs: a no-op FUSE filesystem on libfuse 3's high-level API (bench target noop-c-hl, not
 * run by default; the default no-op, noop-c, is ramfs.c built with -DDISCARD).
 *
 * One flat directory. Files keep a mode, a size and three timestamps, but no data: writes
 * are discarded (only the size grows), reads return zeros up to the file size. That is the
 * least work that keeps fio, cp and dd correct, so the figures measured on it are what the
 * kernel FUSE transport plus libfuse's high-level (path-based) layer cost on this machine.
 *
 * It is the twin of bench/noop-java (same semantics, same callbacks, path-based high-level
 * API, multi-threaded loop), so the gap between the two is what the Java binding costs.
 *
 * Locking: `table_lock` (a rwlock) guards the hash table and the list links; the fields of
 * a node are updated under the read lock with atomics (size, times) because a node is
 * only freed under the write lock.
 *
 * Usage: noopfs MOUNTPOINT [-o OPTS] [-s] [-d]   (libfuse 3 command line; foreground)
 *   max_write is set to NOOPFS_MAX_WRITE bytes (default 1048576, libfuse 3's maximum, from
 *   which it derives max_pages for reads too; jnr-fuse on libfuse 2 is capped at 128 KiB).
 *   At unmount it prints the largest read and write it was sent. Unmount with
 *   `fusermount3 -u MOUNTPOINT`.
 */
#define FUSE_USE_VERSION 35
#define _GNU_SOURCE
#include <fuse.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NBUCKETS (1u << 16)

struct node {
	struct node *next;
	uint64_t ino;
	uint32_t mode;
	int64_t size;            /* atomic */
	struct timespec atime, mtime, ctime;  /* written under the read lock: racy but benign */
	char name[];             /* without the leading '/' */
};

static struct node *buckets[NBUCKETS];
static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static uint64_t next_ino = 2;
static uint64_t nfiles;
static struct timespec root_time;
static unsigned max_write = 1u << 20;
static size_t largest_read, largest_write;   /* atomics: what the kernel really sent */
static unsigned proto_major, proto_minor;

static void note_max(size_t *slot, size_t v)
{
	size_t cur = __atomic_load_n(slot, __ATOMIC_RELAXED);
	while (v > cur && !__atomic_compare_exchange_n(slot, &cur, v, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;   /* FNV-1a */
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h & (NBUCKETS - 1);
}

/* Finds the node for "/name"; call with table_lock held. NULL for "/" and missing names. */
static struct node *lookup(const char *path)
{
	const char *name = path + 1;
	for (struct node *n = buckets[hash(name)]; n; n = n->next)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static void now(struct timespec *ts) { clock_gettime(CLOCK_REALTIME, ts); }

static void *nf_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)cfg;
	conn->max_write = max_write;
	proto_major = conn->proto_major;
	proto_minor = conn->proto_minor;
	return NULL;
}

static void nf_destroy(void *data)
{
	(void)data;
	fprintf(stderr, "noopfs: largest read %zu bytes, largest write %zu bytes, max_write %u, protocol %u.%u\n",
		largest_read, largest_write, max_write, proto_major, proto_minor);
}

static void fill(struct stat *st, const struct node *n)
{
	memset(st, 0, sizeof *st);
	st->st_mode = S_IFREG | (n->mode & 07777);
	st->st_nlink = 1;
	st->st_ino = n->ino;
	st->st_size = __atomic_load_n(&n->size, __ATOMIC_RELAXED);
	st->st_blksize = 4096;
	st->st_blocks = (st->st_size + 511) / 512;
	st->st_atim = n->atime;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
}

static int nf_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	if (strcmp(path, "/") == 0) {
		memset(st, 0, sizeof *st);
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		st->st_ino = 1;
		st->st_atim = st->st_mtim = st->st_ctim = root_time;
		return 0;
	}
	pthread_rwlock_rdlock(&table_lock);
	struct node *n = lookup(path);
	if (n)
		fill(st, n);
	pthread_rwlock_unlock(&table_lock);
	return n ? 0 : -ENOENT;
}

static int nf_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off; (void)fi; (void)flags;
	if (strcmp(path, "/") != 0)
		return -ENOTDIR;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	pthread_rwlock_rdlock(&table_lock);
	for (unsigned b = 0; b < NBUCKETS; b++)
		for (struct node *n = buckets[b]; n; n = n->next)
			if (filler(buf, n->name, NULL, 0, 0))
				goto out;
out:
	pthread_rwlock_unlock(&table_lock);
	return 0;
}

static int nf_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)fi;
	if (strchr(path + 1, '/'))
		return -ENOENT;   /* flat: no subdirectories */
	size_t len = strlen(path + 1);
	pthread_rwlock_wrlock(&table_lock);
	if (!lookup(path)) {
		struct node *n = calloc(1, sizeof *n + len + 1);
		if (!n) {
			pthread_rwlock_unlock(&table_lock);
			return -ENOMEM;
		}
		memcpy(n->name, path + 1, len + 1);
		n->ino = next_ino++;
		n->mode = mode;
		now(&n->atime);
		n->mtime = n->ctime = n->atime;
		uint32_t h = hash(n->name);
		n->next = buckets[h];
		buckets[h] = n;
		nfiles++;
	}
	pthread_rwlock_unlock(&table_lock);
	return 0;
}

static int nf_mknod(const char *path, mode_t mode, dev_t rdev)
{
	(void)rdev;
	return S_ISREG(mode) ? nf_create(path, mode, NULL) : -EPERM;
}

static int nf_open(const char *path, struct fuse_file_info *fi)
{
	(void)fi;
	pthread_rwlock_rdlock(&table_lock);
	struct node *n = lookup(path);
	pthread_rwlock_unlock(&table_lock);
	return n ? 0 : -ENOENT;
}

static int nf_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	note_max(&largest_read, size);
	pthread_rwlock_rdlock(&table_lock);
	struct node *n = lookup(path);
	int64_t fsize = n ? __atomic_load_n(&n->size, __ATOMIC_RELAXED) : 0;
	pthread_rwlock_unlock(&table_lock);
	if (!n)
		return -ENOENT;
	int64_t len = fsize - off;
	if (len > (int64_t)size)
		len = size;
	if (len <= 0)
		return 0;
	memset(buf, 0, len);
	return (int)len;
}

static int nf_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)buf; (void)fi;
	note_max(&largest_write, size);
	pthread_rwlock_rdlock(&table_lock);
	struct node *n = lookup(path);
	if (n) {
		int64_t end = off + (int64_t)size;
		int64_t cur = __atomic_load_n(&n->size, __ATOMIC_RELAXED);
		while (cur < end &&
		       !__atomic_compare_exchange_n(&n->size, &cur, end, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
		now(&n->mtime);
		n->ctime = n->mtime;
	}
	pthread_rwlock_unlock(&table_lock);
	return n ? (int)size : -ENOENT;
}

static int nf_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)fi;
	pthread_rwlock_rdlock(&table_lock);
	struct node *n = lookup(path);
	if (n) {
		__atomic_store_n(&n->size, (int64_t)size, __ATOMIC_RELAXED);
		now(&n->mtime);
		n->ctime = n->mtime;
	}
	pthread_rwlock_unlock(&table_lock);
	return n ? 0 : -ENOENT;
}

/* Unlinks "/name" from its bucket and returns it; call with the write lock held. */
static struct node *detach(const char *path)
{
	struct node **p = &buckets[hash(path + 1)];
	for (; *p; p = &(*p)->next) {
		if (strcmp((*p)->name, path + 1) == 0) {
			struct node *n = *p;
			*p = n->next;
			return n;
		}
	}
	return NULL;
}

static int nf_unlink(const char *path)
{
	pthread_rwlock_wrlock(&table_lock);
	struct node *n = detach(path);
	if (n)
		nfiles--;
	pthread_rwlock_unlock(&table_lock);
	free(n);
	return n ? 0 : -ENOENT;
}

static int nf_rename(const char *from, const char *to, unsigned int flags)
{
	if (flags)
		return -EINVAL;
	if (strchr(to + 1, '/'))
		return -ENOENT;
	size_t len = strlen(to + 1);
	pthread_rwlock_wrlock(&table_lock);
	struct node *n = detach(from);
	struct node *m = n ? realloc(n, sizeof *n + len + 1) : NULL;
	if (!m) {
		if (n) {   /* realloc failed: put it back */
			uint32_t h = hash(n->name);
			n->next = buckets[h];
			buckets[h] = n;
		}
		pthread_rwlock_unlock(&table_lock);
		return n ? -ENOMEM : -ENOENT;
	}
	struct node *old = detach(to);
	if (old)
		nfiles--;
	memcpy(m->name, to + 1, len + 1);
	uint32_t h = hash(m->name);
	m->next = buckets[h];
	buckets[h] = m;
	pthread_rwlock_unlock(&table_lock);
	free(old);
	return 0;
}

static int nf_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)fi;
	if (strcmp(path, "/") == 0)
		return 0;
	pthread_rwlock_rdlock(&table_lock);
	struct node *n = lookup(path);
	if (n) {
		n->mode = mode;
		now(&n->ctime);
	}
	pthread_rwlock_unlock(&table_lock);
	return n ? 0 : -ENOENT;
}

static int nf_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	(void)uid; (void)gid; (void)fi;
	if (strcmp(path, "/") == 0)
		return 0;
	pthread_rwlock_rdlock(&table_lock);
	struct node *n = lookup(path);
	pthread_rwlock_unlock(&table_lock);
	return n ? 0 : -ENOENT;
}

static void pick(struct timespec *dst, const struct timespec *src, const struct timespec *t)
{
	if (src->tv_nsec == UTIME_OMIT)
		return;
	*dst = src->tv_nsec == UTIME_NOW ? *t : *src;
}

static int nf_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	(void)fi;
	if (strcmp(path, "/") == 0)
		return 0;
	struct timespec t;
	now(&t);
	pthread_rwlock_rdlock(&table_lock);
	struct node *n = lookup(path);
	if (n) {
		pick(&n->atime, &tv[0], &t);
		pick(&n->mtime, &tv[1], &t);
		n->ctime = t;
	}
	pthread_rwlock_unlock(&table_lock);
	return n ? 0 : -ENOENT;
}

static int nf_statfs(const char *path, struct statvfs *st)
{
	(void)path;
	memset(st, 0, sizeof *st);
	st->f_bsize = st->f_frsize = 4096;
	st->f_blocks = st->f_bfree = st->f_bavail = 1ull << 30;   /* 4 TiB: never full */
	st->f_files = st->f_ffree = 1ull << 24;
	st->f_namemax = 255;
	return 0;
}

static int nf_ok(const char *path, struct fuse_file_info *fi) { (void)path; (void)fi; return 0; }
static int nf_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path; (void)datasync; (void)fi;
	return 0;
}

static const struct fuse_operations ops = {
	.init = nf_init,
	.destroy = nf_destroy,
	.getattr = nf_getattr,
	.readdir = nf_readdir,
	.create = nf_create,
	.mknod = nf_mknod,
	.open = nf_open,
	.read = nf_read,
	.write = nf_write,
	.truncate = nf_truncate,
	.unlink = nf_unlink,
	.rename = nf_rename,
	.chmod = nf_chmod,
	.chown = nf_chown,
	.utimens = nf_utimens,
	.statfs = nf_statfs,
	.flush = nf_ok,
	.release = nf_ok,
	.fsync = nf_fsync,
};

int main(int argc, char *argv[])
{
	const char *mw = getenv("NOOPFS_MAX_WRITE");
	if (mw)
		max_write = (unsigned)strtoul(mw, NULL, 0);
	now(&root_time);
	/* -f is implied: run in the foreground so the bench script owns the process. */
	char **args = calloc(argc + 2, sizeof *args);
	if (!args)
		return 1;
	args[0] = argv[0];
	args[1] = "-f";
	for (int i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	return fuse_main(argc + 1, args, &ops, NULL);
}
