/* Partition tables as admins see them (libparted): the disks of this
 * machine, one disk's table, the GPT backup moved to the end of a
 * larger target, and the kernel told about the partitions it now has.
 *
 * libparted is not thread-safe (a global device list and exception
 * handler): call these from one thread at a time.
 */
#ifndef P2V_PARTINFO_H
#define P2V_PARTINFO_H

#include <stddef.h>
#include <stdio.h>

#include <parted/parted.h>

/* Describes one disk or image file on out:
 *
 *   /dev/sda: 20.0 GiB (21474836480 bytes), model "ATA QEMU HARDDISK", 512-byte sectors, gpt partition table
 *     Number  Start sector  Size        File system   Name/type         Flags
 *     1       2048          512.0 MiB   fat32         EFI System        boot, esp
 *     2       1050624       19.5 GiB    ext4          root
 *
 * (msdos tables show primary/extended/logical in Name/type).  A disk
 * without a table says "no partition table" and the file system that
 * fills it, if any.  libparted's complaints (e.g. a GPT whose backup is
 * not at the end) are printed as warnings on stderr.  model is left
 * out when the kernel gives none (image files).  Returns 0, or -1 when
 * path is neither a block device nor a regular file, or cannot be
 * opened or read (error printed).
 */
int p2v_print_partition_table (const char *path, FILE *out);

/* What `p2vsend --list` prints: every disk libparted finds or sysfs
 * has (one libparted cannot open, loop devices attached to something),
 * each described as above, or by its size when it cannot be opened,
 * then a line "  state: ..." (mounted on, running root, swap, in use by
 * holders; "not in use"), separated by blank lines.  Unused loops, ram
 * and empty devices are left out, as parted -l does.  Returns the
 * number of disks listed (0: "no disks found" is printed), or -1.
 */
int p2v_list_disks (FILE *out);

/* After a GPT disk was copied onto a larger target: moves the backup
 * GPT header and partition array to the end of the target, as
 * `sgdisk -e` does, per the UEFI spec (CRC32 of header and array):
 * the primary header's AlternateLBA and LastUsableLBA are updated (the
 * new space becomes usable), the old backup header sector is zeroed,
 * and a pure protective MBR's 0xEE entry is stretched to the new size
 * (a hybrid MBR is left as it is).  A GPT counts only behind an MBR with
 * an 0xEE entry, as the UEFI spec and libparted require.
 * Partitions, their entries and everything else are left untouched.
 * The new backup is written and flushed before the primary header
 * points at it, so a crash leaves one consistent pair.
 *
 * Returns 1 when it moved the backup (what says from where to where),
 * 0 when there was nothing to do (not GPT, or the backup is already at
 * the end: same-size target; what says which), -1 on error (printed:
 * I/O error, an invalid primary header, or a target smaller than the
 * GPT says).  what may be NULL.
 */
int p2v_gpt_relocate_backup (const char *path, char *what, size_t what_len);
/* The same on a descriptor open for reading and writing. */
int p2v_gpt_relocate_backup_fd (int fd, const char *path, char *what, size_t what_len);

/* Makes the kernel see the partitions of block device path, as
 * partprobe / partx -a do: BLKRRPART first; when the kernel then knows
 * no partitions (no parser for the table type, or a loop device
 * without partition scanning), the table is read with libparted and
 * the kernel's partitions are synced with BLKPG: stale or different
 * ones deleted, missing ones added (/dev/sdaN, /dev/loopNpM appear via
 * devtmpfs).  Regular files: nothing to do.  Returns the number of
 * partitions the kernel knows afterwards (what says how), or -1
 * (printed; e.g. a partition that must change is in use).
 */
int p2v_reread_partitions (const char *path, char *what, size_t what_len);

/* After a verified copy onto a block device: move a GPT backup to the
 * end of a larger disk, then have the kernel re-read the partitions,
 * saying what was done.  Does nothing for a file.  Returns an exit
 * status (util.h).  The digests describe the data as received: the GPT
 * move changes the disk's last sectors and two header fields.
 */
int p2v_finish_partitions (const char *target);

/* For gpt.c and partsync.c: libparted's complaints as our warnings
 * (partinfo.c), and a one-line account of what was done into what
 * (what may be NULL).
 */
PedExceptionHandler *p2v_parted_quiet_begin (void);
void p2v_parted_quiet_end (PedExceptionHandler *old);
void p2v_part_say (char *what, size_t len, const char *fmt, ...)
  __attribute__((format (printf, 3, 4)));

#endif
