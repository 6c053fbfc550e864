package dev.pmemfs.fs.core;

/** What statfs(2) reports: sizes in 4 KiB blocks. */
public record StatFs(long blockSize, long blocks, long freeBlocks, long inodes, long freeInodes, int nameMax) {
}
