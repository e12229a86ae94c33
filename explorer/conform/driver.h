/*
 * What driver.c (the world and its events) shares with race.c (the race mode):
 * the race mode builds the same world and runs the same events, many times over.
 */
#ifndef ERRSEQ_DRIVER_H
#define ERRSEQ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#define MAXEV 512
#define MAXC 16
#define MAXFD 64
#define FILESZ 4096
#define MAXSPANS 32

/* The output protocol and its helpers. */
void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
double uptime(void);
void poweroff(void) __attribute__((noreturn));
void die(const char *what) __attribute__((noreturn));
const char *errname(int e);
/* The next kernel log record since the last read (its message only), or 0 if none. */
int kmsg_next(char *msg, size_t n);
void drain_kmsg(void);

/* The event being run (its index in the scenario; -1 during setup). */
extern int cur_event;
/* Set: events report their result in last_result only, without an `@@ R` line. */
extern int quiet;
extern char last_result[128];

/* The world (docs/model.md §1). */
extern int ncont;
extern int mounted[MAXC + 1];
extern int cached[MAXC + 1];
extern int fd_of[MAXFD];
extern char fd_name[MAXFD][64];
extern int nfd;
extern char lines[MAXEV][256];
extern int nlines;

/* What the last `wberror` failed on purpose: the inode, its sectors, the errno. */
struct wb_target {
	unsigned long ino;
	int nspans;
	uint64_t span[MAXSPANS][2];
	int nospc;
};
extern struct wb_target last_wb;

void upper_path(int t, char *p, size_t n);
int target_of(const char *tok);
int find_fd(const char *name);
void clear_volatile_marker(int c);
void scan_targets(void);
void setup(void);
void run_event(const char *l);

/* race.c: the race mode, when the initramfs carries /race.txt. */
void race_main(void) __attribute__((noreturn));

#endif
