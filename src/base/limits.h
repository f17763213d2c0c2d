/* Sizes every layer agrees on, defined once. */
#ifndef BK_BASE_LIMITS_H
#define BK_BASE_LIMITS_H

/* The unit the planner programs in and confirm settles in; a flash whose
 * own page is larger is still programmed in runs that never cross one. */
#define BK_PAGE 256u
/* The smallest erase every supported flash has; plans and backups are in
 * whole sectors. */
#define BK_SECTOR 4096u
/* 24-bit addressing ends here: larger parts need 4-byte addresses. */
#define BK_MAX_FLASH (16u << 20)
#define BK_MIN_FLASH (64u << 10)

#endif
