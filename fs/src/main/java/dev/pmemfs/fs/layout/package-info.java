/**
 * The on-media format of pmemfs: every offset declared once, as constants, in the record
 * classes of this package. All integers are little-endian; blocks are 4 KiB.
 *
 * <h2>Region</h2>
 * <pre>
 * block             what
 * 0                 superblock (primary)
 * 1 .. J            metadata journal ({@link Geometry#journalBlocks} blocks)
 * ..                inode bitmap   (1 bit per inode, {@link Bitmaps#BITS_PER_BLOCK} bits and a CRC per block)
 * ..                block bitmap   (1 bit per block of the region, same format)
 * ..                inode table    ({@link InodeRecord#SIZE}-byte inodes, 16 per block)
 * ..                data blocks    (file data, directories, indirect blocks, symlinks, xattrs)
 * N-1               superblock (backup)
 * N ..              wear area of the device layer (not part of the filesystem)
 * </pre>
 *
 * <h2>Superblock ({@link Superblock}), block 0 and block N-1</h2>
 * <pre>
 * off size field
 *   0    8 magic "PMEMFS\0\1"
 *   8    4 format version (1)
 *  12    4 block size (4096)
 *  16    8 blocks in the filesystem (N)
 *  24    8 inode count
 *  32    8 journal start block     40  8 journal blocks
 *  48    8 inode bitmap start      56  8 inode bitmap blocks
 *  64    8 block bitmap start      72  8 block bitmap blocks
 *  80    8 inode table start       88  8 inode table blocks
 *  96    8 first data block
 * 104    8 feature flags (none defined)
 * 112   16 UUID
 * 128    4 clean-unmount flag (1 clean, 0 mounted or crashed)
 * 132    4 default DAX flag of the root directory (0/1), set by mkfs
 * 136    8 mkfs time (seconds)
 * 144    8 mount count
 * 252    4 CRC32C of bytes [0, 252)
 * </pre>
 *
 * <h2>Inode ({@link InodeRecord}), 256 bytes, inode {@code i} at table byte {@code i * 256}</h2>
 * <pre>
 * off size field                       off size field
 *   0    4 mode (type and permission)   72   8 blocks allocated (data + indirect)
 *   4    4 uid                          80   8 xattr block (0: none)
 *   8    4 gid                          88   8 parent inode (directories)
 *  12    4 link count                   96  96 12 direct block pointers
 *  16    8 size                        192   8 single indirect block
 *  24    8 atime seconds               200   8 double indirect block
 *  32    4 atime nanoseconds           208   8 triple indirect block
 *  36    4 flags (bit 0: DAX,          216   8 device number (makedev), devices only
 *          bit 1: blocks past size)    224  24 reserved (zero)
 *  40    8 mtime seconds               248   4 generation
 *  48    4 mtime nanoseconds           252   4 CRC32C of bytes [0, 252)
 *  52    4 reserved
 *  56    8 ctime seconds
 *  64    4 ctime nanoseconds
 *  68    4 reserved
 * </pre>
 * An all-zero inode is free. Inode 0 is never used; inode 1 is the root directory. Types:
 * regular, directory, symlink, FIFO, socket, character and block device; the four special
 * types hold no blocks and a size of 0. Bit 1 of the flags (set by fallocate with KEEP_SIZE)
 * allows a regular file's blocks to lie beyond its size.
 *
 * <h2>Indirect block ({@link IndirectBlock})</h2>
 * 511 block pointers (u64, 0 = hole), then at 4088 a u32 CRC32C of bytes [0, 4088) and a
 * u32 magic "IND1".
 *
 * <h2>Directory block ({@link DirBlock})</h2>
 * Records packed from offset 0: {@code u64 inode, u16 record length, u8 name length,
 * u8 file type (d_type: 1 FIFO, 2 chr, 4 dir, 6 blk, 8 reg, 10 lnk, 12 sock), name bytes},
 * each padded to 8 bytes; a record with inode 0 ends the block's
 * records. At 4088: u32 CRC32C of [0, 4088), u32 magic "DIR1". {@code .} and {@code ..} are
 * not stored (the parent is in the inode).
 *
 * <h2>Bitmap block ({@link Bitmaps})</h2>
 * 4088 bytes of bits (bit {@code i % 32704} of block {@code i / 32704}), then u32 CRC32C and
 * u32 magic "BMP1".
 *
 * <h2>Symlink block</h2>
 * The target's bytes, its length in the inode's size (at most 4095). Covered by the
 * inode's checksum of size only; data-like.
 *
 * <h2>Xattr block ({@link XattrBlock})</h2>
 * u32 count, then per attribute {@code u8 name length, u16 value length, name, value}; at 4088
 * u32 CRC32C of [0, 4088) and u32 magic "XAT1".
 *
 * <h2>Journal ({@link JournalRecord}), blocks 1..J</h2>
 * One transaction at a time, always from the journal's first block: descriptor block(s)
 * (magic "JDSC", sequence, target count, targets as u64), the target blocks' new images, then a
 * commit block (magic "JCMT", sequence, count, CRC32C over descriptors and images). A
 * transaction is valid only with a matching commit block; after the images reach their home
 * blocks the first descriptor's magic is cleared.
 */
package dev.pmemfs.fs.layout;
