/* What an initrd carries, read with libarchive; and what a kernel has
 * built in or as a module.
 */
#ifndef P2VFIXUP_INITRD_H
#define P2VFIXUP_INITRD_H

#include <stddef.h>
#include "fixup/text.h"

struct initrd_info {
  struct strlist modules;       /* module names, '-' folded to '_' */
  struct strlist files;         /* every path, without a leading "./" */
  struct strlist segments;      /* "none", "gzip", "zstd"... per archive */
};

/* Read every concatenated cpio archive in DATA (an early uncompressed
 * microcode archive in front, then the compressed main one).  Returns 0
 * or -1 with *ERR set.
 */
int initrd_inspect (const void *data, size_t len, struct initrd_info *info,
                    char **err);
void initrd_info_free (struct initrd_info *info);
bool initrd_has_module (const struct initrd_info *info, const char *mod);

/* Module directories whose contents the root filesystem needs whatever
 * the hardware: filesystems, device mapper/md, crypto and library code.
 */
bool module_path_is_storage_stack (const char *path);

/* The kernel's modules: modules.dep, modules.builtin and config-VER,
 * any of which may be NULL.
 */
struct kernel_mods {
  char *dep, *builtin, *config;
};
enum kmod_state { KMOD_ABSENT = 0, KMOD_MODULE, KMOD_BUILTIN };
enum kmod_state kernel_module_state (const struct kernel_mods *k, const char *mod);
/* The CONFIG_ symbol of the drivers we know, or NULL. */
const char *module_config_symbol (const char *mod);
void kernel_mods_free (struct kernel_mods *k);

/* Compare kernel versions "2.6.18-398.el5" vs "2.6.28": <0, 0, >0 on
 * the numeric dotted prefix.
 */
int kernel_version_cmp (const char *a, const char *b);

#endif
