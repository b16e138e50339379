/* The common layer at once, for modules that use most of it: messages,
 * exit statuses, allocation, whole I/O and atomic replacement, clocks.
 * Everything in lib/ may include it; lib/common includes nothing above
 * it.
 */
#ifndef P2V_COMMON_UTIL_H
#define P2V_COMMON_UTIL_H

#include "common/alloc.h"
#include "common/clock.h"
#include "common/exit.h"
#include "common/fileio.h"
#include "common/message.h"

#endif
