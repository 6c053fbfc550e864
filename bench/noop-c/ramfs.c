/*
 * ramfs: a RAM filesystem on libfuse 3's low-level API, the baseline of `make bench`.
 *
 * One flat directory of regular files whose data lives in RAM: a write copies the request's
 * payload once, from libfuse's buffer into 64 KiB chunks; a read replies straight out of
 * the chunks with one writev (fuse_reply_iov, no copy in between). That is the least work a
 * filesystem that keeps data can do on FUSE, so it is the fair ceiling for pmemfs, which
 * keeps data too (the no-op beside it, noopfs.c, discards writes: the pure protocol cost).
 *
 * Why the low-level API: it speaks in inode numbers, as the kernel does and as pmemfs's
 * /dev/fuse frontend does, with no path resolution under a global lock in between.
 *
 * Built with -DDISCARD (the `noopfs-ll` binary) it keeps no data: writes only move the
 * size, reads reply zeros from one static buffer. Same code otherwise, so the gap between
 * the two is what keeping the data costs, and the discarding one is the pure protocol cost.
 *
 * Requests are as large as libfuse 3.14 allows: max_write 1 MiB (RAMFS_MAX_WRITE) in init,
 * from which libfuse derives max_pages (256 pages of 4 KiB), the kernel's cap for reads
 * too. At unmount it prints the largest read and write it was sent, so the bench can
 * show what was really negotiated.
 *
 * Locking: `table_lock` (rwlock) guards the name table, the hash links, nlink and the
 * lookup counts' transitions to zero: lookups and creates bump a count under the read
 * lock (atomically), forget and unlink take the write lock, so an inode is freed exactly
 * once, when it is unlinked and the kernel has forgotten it. Each inode's `lock` (rwlock)
 * guards its size, chunk table and times: reads hold it shared until their reply is
 * written, writes and truncates hold it exclusive.
 *
 * Usage: ramfs MOUNTPOINT [-o OPTS]   (foreground; unmount with `fusermount3 -u`)
 * Environment: RAMFS_MAX_WRITE (bytes, default 1048576), RAMFS_TIMEOUT (entry and attr
 * timeout in seconds, default 1.0 like libfuse's high-level API), RAMFS_CLONE_FD (1: one
 * /dev/fuse descriptor per worker thread), RAMFS_MAX_THREADS (default libfuse's 10).
 */
#define FUSE_USE_VERSION 312
#define _GNU_SOURCE
#include <fuse_lowlevel.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifdef DISCARD
#define NAME "noopfs-ll"
#else
#define NAME "ramfs"
#endif
#define NBUCKETS (1u << 16)
#define CHUNK_SHIFT 16
#define CHUNK ((size_t)1 << CHUNK_SHIFT)
#define MAX_IOV (((size_t)1 << 20) / CHUNK + 2)

struct inode {
	struct inode *next;      /* hash chain; table_lock */
	uint64_t ino;            /* st_ino; the FUSE node id is the pointer */
	uint64_t nlookup;        /* kernel references; see the locking note */
	int nlink;               /* 1 while named, 0 once unlinked; table_lock */
	pthread_rwlock_t lock;   /* guards what follows */
	uint32_t mode;
	int64_t size;
	char **chunks;           /* NULL entries are holes (read as zeros) */
	size_t nchunks;
	struct timespec atime, mtime, ctime;
	char *name;              /* table_lock */
};

static struct inode *buckets[NBUCKETS];
static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static uint64_t next_ino = 2, nfiles;
static struct timespec root_time;
static unsigned max_write = 1u << 20;
static double timeout = 1.0;
static const char zeros[CHUNK];
static size_t largest_read, largest_write;   /* atomics: what the kernel really sent */
static unsigned proto_major, proto_minor;

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;   /* FNV-1a */
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h & (NBUCKETS - 1);
}

static void now(struct timespec *ts) { clock_gettime(CLOCK_REALTIME, ts); }

static struct inode *node(fuse_ino_t ino) { return (struct inode *)(uintptr_t)ino; }

static void note_max(size_t *slot, size_t v)
{
	size_t cur = __atomic_load_n(slot, __ATOMIC_RELAXED);
	while (v > cur && !__atomic_compare_exchange_n(slot, &cur, v, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Finds a name in the root directory; call with table_lock held. */
static struct inode *find(const char *name)
{
	for (struct inode *n = buckets[hash(name)]; n; n = n->next)
		if (strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

static void fill_root(struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_mode = S_IFDIR | 0755;
	st->st_nlink = 2;
	st->st_ino = FUSE_ROOT_ID;
	st->st_atim = st->st_mtim = st->st_ctim = root_time;
}

/* Call with n->lock held (either way). */
static void fill(struct stat *st, const struct inode *n)
{
	memset(st, 0, sizeof *st);
	st->st_mode = S_IFREG | (n->mode & 07777);
	st->st_nlink = 1;
	st->st_ino = n->ino;
	st->st_size = n->size;
	st->st_blksize = 4096;
	st->st_blocks = (n->size + 511) / 512;
	st->st_atim = n->atime;
	st->st_mtim = n->mtime;
	st->st_ctim = n->ctime;
}

static void stat_of(fuse_ino_t ino, struct stat *st)
{
	if (ino == FUSE_ROOT_ID) {
		fill_root(st);
		return;
	}
	struct inode *n = node(ino);
	pthread_rwlock_rdlock(&n->lock);
	fill(st, n);
	pthread_rwlock_unlock(&n->lock);
}

static void entry_of(struct inode *n, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof *e);
	e->ino = (uintptr_t)n;
	e->generation = 1;
	e->attr_timeout = e->entry_timeout = timeout;
	stat_of(e->ino, &e->attr);
}

static void reply_entry(fuse_req_t req, struct inode *n)
{
	struct fuse_entry_param e;
	entry_of(n, &e);
	fuse_reply_entry(req, &e);
}

static void free_inode(struct inode *n)
{
	for (size_t i = 0; i < n->nchunks; i++)
		free(n->chunks[i]);
	free(n->chunks);
	pthread_rwlock_destroy(&n->lock);
	free(n->name);
	free(n);
}

static void rf_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	/* libfuse 3.14 answers max_pages = ceil(max_write / page size) when the kernel offers
	 * FUSE_MAX_PAGES, so this also lifts reads to 1 MiB; no writeback cache, no splice. */
	conn->max_write = max_write;
	proto_major = conn->proto_major;
	proto_minor = conn->proto_minor;
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
}

static void rf_destroy(void *userdata)
{
	(void)userdata;
	fprintf(stderr, "%s: largest read %zu bytes, largest write %zu bytes, max_write %u, protocol %u.%u\n",
		NAME, largest_read, largest_write, max_write, proto_major, proto_minor);
}

static void rf_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (parent != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	pthread_rwlock_rdlock(&table_lock);
	struct inode *n = find(name);
	if (n)
		__atomic_add_fetch(&n->nlookup, 1, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&table_lock);
	if (!n) {
		struct fuse_entry_param e;   /* a negative entry, cached like a positive one */
		memset(&e, 0, sizeof e);
		e.entry_timeout = timeout;
		fuse_reply_entry(req, &e);
		return;
	}
	reply_entry(req, n);
}

static void forget_one(fuse_ino_t ino, uint64_t count)
{
	if (ino == FUSE_ROOT_ID)
		return;
	struct inode *n = node(ino), *dead = NULL;
	pthread_rwlock_wrlock(&table_lock);
	n->nlookup -= count;
	if (n->nlookup == 0 && n->nlink == 0)
		dead = n;
	pthread_rwlock_unlock(&table_lock);
	if (dead)
		free_inode(dead);
}

static void rf_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	forget_one(ino, nlookup);
	fuse_reply_none(req);
}

static void rf_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		forget_one(forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void rf_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	struct stat st;
	stat_of(ino, &st);
	fuse_reply_attr(req, &st, timeout);
}

/* Drops the chunks wholly past size and zeroes the tail of the last one; n->lock held exclusive. */
static void cut(struct inode *n, int64_t size)
{
	size_t keep = (size + CHUNK - 1) >> CHUNK_SHIFT;
	for (size_t i = keep; i < n->nchunks; i++) {
		free(n->chunks[i]);
		n->chunks[i] = NULL;
	}
	if (size < n->size && (size & (CHUNK - 1)) && keep - 1 < n->nchunks && n->chunks[keep - 1])
		memset(n->chunks[keep - 1] + (size & (CHUNK - 1)), 0, CHUNK - (size & (CHUNK - 1)));
}

static void pick(struct timespec *dst, const struct timespec *src, int set, int set_now,
		 const struct timespec *t)
{
	if (set_now)
		*dst = *t;
	else if (set)
		*dst = *src;
}

static void rf_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	(void)fi;
	if (ino == FUSE_ROOT_ID) {
		rf_getattr(req, ino, NULL);
		return;
	}
	struct inode *n = node(ino);
	struct timespec t;
	now(&t);
	pthread_rwlock_wrlock(&n->lock);
	if (to_set & FUSE_SET_ATTR_MODE)
		n->mode = attr->st_mode;
	if (to_set & FUSE_SET_ATTR_SIZE) {
		cut(n, attr->st_size);
		n->size = attr->st_size;
		n->mtime = t;
	}
	pick(&n->atime, &attr->st_atim, to_set & FUSE_SET_ATTR_ATIME, to_set & FUSE_SET_ATTR_ATIME_NOW, &t);
	pick(&n->mtime, &attr->st_mtim, to_set & FUSE_SET_ATTR_MTIME, to_set & FUSE_SET_ATTR_MTIME_NOW, &t);
	n->ctime = t;
	struct stat st;
	fill(&st, n);
	pthread_rwlock_unlock(&n->lock);
	fuse_reply_attr(req, &st, timeout);
}

static int make(fuse_ino_t parent, const char *name, mode_t mode, struct inode **out)
{
	if (parent != FUSE_ROOT_ID)
		return ENOTDIR;
	if (!S_ISREG(mode))
		return EPERM;   /* flat: regular files only */
	struct inode *fresh = calloc(1, sizeof *fresh);
	if (!fresh || !(fresh->name = strdup(name))) {
		free(fresh);
		return ENOMEM;
	}
	pthread_rwlock_init(&fresh->lock, NULL);
	fresh->mode = mode;
	fresh->nlink = 1;
	now(&fresh->atime);
	fresh->mtime = fresh->ctime = fresh->atime;
	pthread_rwlock_wrlock(&table_lock);
	struct inode *n = find(name);
	if (!n) {
		n = fresh;
		fresh = NULL;
		n->ino = next_ino++;
		uint32_t h = hash(name);
		n->next = buckets[h];
		buckets[h] = n;
		nfiles++;
	}
	n->nlookup++;
	pthread_rwlock_unlock(&table_lock);
	if (fresh)
		free_inode(fresh);
	*out = n;
	return 0;
}

static void rf_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct inode *n;
	int err = make(parent, name, mode, &n);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	struct fuse_entry_param e;
	entry_of(n, &e);
	fuse_reply_create(req, &e, fi);
}

static void rf_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)rdev;
	struct inode *n;
	int err = make(parent, name, mode, &n);
	if (err)
		fuse_reply_err(req, err);
	else
		reply_entry(req, n);
}

static void rf_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino == FUSE_ROOT_ID) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (fi->flags & O_TRUNC) {
		struct inode *n = node(ino);
		pthread_rwlock_wrlock(&n->lock);
		cut(n, 0);
		n->size = 0;
		now(&n->mtime);
		n->ctime = n->mtime;
		pthread_rwlock_unlock(&n->lock);
	}
	fuse_reply_open(req, fi);
}

static void rf_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	struct inode *n = node(ino);
	struct iovec iov[MAX_IOV];
	note_max(&largest_read, size);
	pthread_rwlock_rdlock(&n->lock);
	int64_t end = off + (int64_t)size;
	if (end > n->size)
		end = n->size;
	int cnt = 0;
	for (int64_t pos = off; pos < end && cnt < (int)MAX_IOV;) {
		size_t c = pos >> CHUNK_SHIFT, in = pos & (CHUNK - 1);
		size_t len = CHUNK - in;
		if ((int64_t)len > end - pos)
			len = end - pos;
		const char *src = c < n->nchunks && n->chunks[c] ? n->chunks[c] + in : zeros;
		iov[cnt].iov_base = (void *)src;
		iov[cnt].iov_len = len;
		cnt++;
		pos += len;
	}
	/* The reply is written while the lock is held, so no truncate frees a chunk under it. */
	fuse_reply_iov(req, iov, cnt);
	pthread_rwlock_unlock(&n->lock);
}

/* Makes sure chunk c exists; fills the parts outside [from, to) with zeros. n->lock exclusive. */
static char *chunk_for(struct inode *n, size_t c, size_t from, size_t to)
{
	if (c >= n->nchunks) {
		size_t cap = n->nchunks ? n->nchunks : 16;
		while (cap <= c)
			cap *= 2;
		char **grown = realloc(n->chunks, cap * sizeof *grown);
		if (!grown)
			return NULL;
		memset(grown + n->nchunks, 0, (cap - n->nchunks) * sizeof *grown);
		n->chunks = grown;
		n->nchunks = cap;
	}
	if (!n->chunks[c]) {
		char *p = malloc(CHUNK);
		if (!p)
			return NULL;
		memset(p, 0, from);
		memset(p + to, 0, CHUNK - to);
		n->chunks[c] = p;
	}
	return n->chunks[c];
}

static void rf_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)fi;
	struct inode *n = node(ino);
	note_max(&largest_write, size);
	pthread_rwlock_wrlock(&n->lock);
	size_t done = 0;
#ifdef DISCARD
	(void)buf;
	done = size;
#endif
	while (done < size) {
		int64_t pos = off + (int64_t)done;
		size_t c = pos >> CHUNK_SHIFT, in = pos & (CHUNK - 1);
		size_t len = CHUNK - in;
		if (len > size - done)
			len = size - done;
		char *dst = chunk_for(n, c, in, in + len);
		if (!dst)
			break;
		memcpy(dst + in, buf + done, len);
		done += len;
	}
	if (off + (int64_t)done > n->size)
		n->size = off + done;
	now(&n->mtime);
	n->ctime = n->mtime;
	pthread_rwlock_unlock(&n->lock);
	if (done == 0 && size > 0)
		fuse_reply_err(req, ENOSPC);
	else
		fuse_reply_write(req, done);
}

static void rf_ok(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino; (void)fi;
	fuse_reply_err(req, 0);
}

/* Data in RAM is as durable as it gets here: fsync has nothing to do but answer. */
static void rf_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)datasync;
	rf_ok(req, ino, fi);
}

static void rf_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (parent != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	struct inode *dead = NULL;
	pthread_rwlock_wrlock(&table_lock);
	struct inode **p = &buckets[hash(name)], *n = NULL;
	for (; *p; p = &(*p)->next) {
		if (strcmp((*p)->name, name) == 0) {
			n = *p;
			*p = n->next;
			n->nlink = 0;
			nfiles--;
			if (n->nlookup == 0)
				dead = n;
			break;
		}
	}
	pthread_rwlock_unlock(&table_lock);
	if (dead)
		free_inode(dead);
	fuse_reply_err(req, n ? 0 : ENOENT);
}

/* Renames within the root (RENAME_NOREPLACE supported); the node id stays. */
static void rf_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	if (parent != FUSE_ROOT_ID || newparent != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (flags & ~RENAME_NOREPLACE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	char *copy = strdup(newname);
	if (!copy) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	int err = 0;
	struct inode *dead = NULL;
	pthread_rwlock_wrlock(&table_lock);
	struct inode *n = find(name), *old = find(newname);
	if (!n)
		err = ENOENT;
	else if (old && (flags & RENAME_NOREPLACE))
		err = EEXIST;
	else if (old != n) {
		for (int pass = 0; pass < 2; pass++) {
			struct inode *victim = pass ? old : n;
			if (!victim)
				continue;
			struct inode **p = &buckets[hash(victim->name)];
			while (*p != victim)
				p = &(*p)->next;
			*p = victim->next;
		}
		if (old) {
			old->nlink = 0;
			nfiles--;
			if (old->nlookup == 0)
				dead = old;
		}
		free(n->name);
		n->name = copy;
		copy = NULL;
		uint32_t h = hash(n->name);
		n->next = buckets[h];
		buckets[h] = n;
	}
	pthread_rwlock_unlock(&table_lock);
	free(copy);
	if (dead)
		free_inode(dead);
	fuse_reply_err(req, err);
}

/* A directory listing: a snapshot taken at opendir, so offsets stay stable. */
struct listing {
	size_t count;
	struct { uint64_t ino; char *name; } entries[];
};

static void rf_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	pthread_rwlock_rdlock(&table_lock);
	struct listing *l = malloc(sizeof *l + (nfiles + 2) * sizeof l->entries[0]);
	if (!l) {
		pthread_rwlock_unlock(&table_lock);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	l->count = 0;
	l->entries[l->count].ino = FUSE_ROOT_ID;
	l->entries[l->count++].name = strdup(".");
	l->entries[l->count].ino = FUSE_ROOT_ID;
	l->entries[l->count++].name = strdup("..");
	for (unsigned b = 0; b < NBUCKETS; b++)
		for (struct inode *n = buckets[b]; n; n = n->next) {
			l->entries[l->count].ino = n->ino;
			l->entries[l->count++].name = strdup(n->name);
		}
	pthread_rwlock_unlock(&table_lock);
	fi->fh = (uintptr_t)l;
	fuse_reply_open(req, fi);
}

static void rf_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)ino;
	struct listing *l = (struct listing *)(uintptr_t)fi->fh;
	char *buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	size_t used = 0;
	for (size_t i = off; i < l->count; i++) {
		struct stat st;
		memset(&st, 0, sizeof st);
		st.st_ino = l->entries[i].ino;
		st.st_mode = i < 2 ? S_IFDIR : S_IFREG;
		size_t need = fuse_add_direntry(req, buf + used, size - used, l->entries[i].name, &st, i + 1);
		if (need > size - used)
			break;
		used += need;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void rf_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	struct listing *l = (struct listing *)(uintptr_t)fi->fh;
	for (size_t i = 0; i < l->count; i++)
		free(l->entries[i].name);
	free(l);
	fuse_reply_err(req, 0);
}

static void rf_statfs(fuse_req_t req, fuse_ino_t ino)
{
	(void)ino;
	struct statvfs st;
	memset(&st, 0, sizeof st);
	st.f_bsize = st.f_frsize = 4096;
	st.f_blocks = st.f_bfree = st.f_bavail = 1ull << 30;   /* 4 TiB: never full */
	st.f_files = st.f_ffree = 1ull << 24;
	st.f_namemax = 255;
	fuse_reply_statfs(req, &st);
}

static const struct fuse_lowlevel_ops ops = {
	.init = rf_init,
	.destroy = rf_destroy,
	.lookup = rf_lookup,
	.forget = rf_forget,
	.forget_multi = rf_forget_multi,
	.getattr = rf_getattr,
	.setattr = rf_setattr,
	.mknod = rf_mknod,
	.create = rf_create,
	.open = rf_open,
	.read = rf_read,
	.write = rf_write,
	.flush = rf_ok,
	.release = rf_ok,
	.fsync = rf_fsync,
	.unlink = rf_unlink,
	.rename = rf_rename,
	.opendir = rf_opendir,
	.readdir = rf_readdir,
	.releasedir = rf_releasedir,
	.statfs = rf_statfs,
};

static unsigned env_uint(const char *name, unsigned dflt)
{
	const char *v = getenv(name);
	return v && *v ? (unsigned)strtoul(v, NULL, 0) : dflt;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts;
	int ret = 1;

	max_write = env_uint("RAMFS_MAX_WRITE", max_write);
	if (getenv("RAMFS_TIMEOUT"))
		timeout = strtod(getenv("RAMFS_TIMEOUT"), NULL);
	now(&root_time);
	if (fuse_parse_cmdline(&args, &opts) != 0)
		return 1;
	if (opts.show_help || !opts.mountpoint) {
		fprintf(stderr, "usage: %s MOUNTPOINT [-o OPTS]\n", argv[0]);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		goto out_args;
	}
	struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
	if (!se)
		goto out_args;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out_signals;
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_clone_fd(cfg, env_uint("RAMFS_CLONE_FD", 0));
	fuse_loop_cfg_set_max_threads(cfg, env_uint("RAMFS_MAX_THREADS", 10));
	fuse_loop_cfg_set_idle_threads(cfg, env_uint("RAMFS_MAX_THREADS", 10));
	ret = opts.singlethread ? fuse_session_loop(se) : fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_args:
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return ret ? 1 : 0;
}
