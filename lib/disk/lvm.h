/* An LVM2 physical volume, read for --skip-free without device-mapper
 * and without activating anything: its label, its metadata area and
 * the volume group's text metadata in it, parsed here (lvm.c).  What
 * comes out is where, on this PV, each logical volume's data lies and
 * which extents no LV uses.
 *
 * Device-mapper's tables would say the same for an active group, but a
 * LiveCD has not activated it (and should not: activation can start
 * pvmove or mirror resyncs that write), and the machine that made this
 * tool has no device-mapper at all.  The metadata is the allocation's
 * own record, checksummed by LVM; the newest copy on this PV is used.
 *
 * An LV is offered for its filesystem to be read only when it is
 * plain linear and lies wholly on this PV (in one piece or several),
 * and nothing in the group refers to it by name (snapshot origins and stores, RAID and
 * mirror legs, thin and cache pools and their parts): their blocks
 * mean something to another LV, which reads them through it.
 */
#ifndef P2V_LVM_H
#define P2V_LVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/pieces.h"

#define P2V_LVM_NAME_LEN 260

struct p2v_lvm_lv {
  char name[P2V_LVM_NAME_LEN];  /* "vg00/root" */
  struct p2v_run *pieces;       /* bytes from the PV's start, in the LV's order */
  size_t n_pieces;              /* 0: not offered, see why */
  char why[160];
};

struct p2v_lvm_pv {
  char vg[P2V_LVM_NAME_LEN];
  char vg_id[64];               /* "oS2Dx0-4VAC-..." */
  bool shared;                  /* lvmlockd or clustered: other hosts may change it */
  struct p2v_lvm_lv *lvs;
  size_t n_lvs;
  struct p2v_run *free;         /* extents no LV uses, merged, in order */
  size_t n_free;
  uint64_t free_bytes;
};

/* The PV at [off, off + len) of fd.  0 with pv filled, or -1 with why
 * ("its metadata checksum is wrong") and pv empty.
 */
int p2v_lvm_read (int fd, uint64_t off, uint64_t len, struct p2v_lvm_pv *pv,
                  char *why, size_t why_len);

/* The text metadata alone, for the PV whose label holds uuid (32
 * characters, no dashes) and is pv_len bytes long, with its label and
 * metadata areas at reserved (no extent may lie there).  *seqno is the
 * group's sequence number (the newest copy wins).  For lvm.c and its
 * test.
 */
int p2v_lvm_parse (const char *text, size_t n, const char *uuid, uint64_t pv_len,
                   const struct p2v_run *reserved, size_t n_reserved, struct p2v_lvm_pv *pv,
                   uint64_t *seqno, char *why, size_t why_len);

void p2v_lvm_free (struct p2v_lvm_pv *pv);

#endif
