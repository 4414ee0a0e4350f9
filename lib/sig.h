/* sig.h: the signals every program handles the same way. */
#ifndef TF_SIG_H
#define TF_SIG_H

#include <stdint.h>

/* SIGINT/SIGTERM set a flag and interrupt blocking calls (no SA_RESTART);
 * the program finishes its work, and when it exits (returns from main or
 * calls exit) after one of them, it ends by that signal instead (status
 * 128+N to its shell), stdio flushed first. SIGPIPE and SIGXFSZ are
 * ignored so that writes fail with EPIPE/EFBIG instead of killing the
 * program. tf_signal_usr1 tells of each SIGUSR1. */
void tf_signals_init(void);

/* The number of the first SIGINT/SIGTERM received, or 0. */
int tf_signal_stop(void);

/* How many SIGINT/SIGTERM were received (counting stops at 1000): a
 * second one may cut short what the first let finish. */
int tf_signal_stops(void);

/* Nonzero once per SIGUSR1 received since the last call. */
int tf_signal_usr1(void);

/* Waits like ppoll(2) for fds or timeout_ns (-1: for ever), but with
 * SIGINT/SIGTERM/SIGUSR1 deliverable only while waiting, so a signal that
 * arrives while the program works is never missed by the next wait: it
 * returns at once for it. After that a wait waits again (until the next
 * signal), so a program that stopped reading can wait for its work. The
 * first call blocks those signals outside the wait; signals pending when it
 * returns are delivered before it does (tf_signal_wait(NULL, 0, 0) just
 * lets them in). Returns ppoll's result (-1 with EINTR after a signal). */
struct pollfd;
int tf_signal_wait(struct pollfd *fds, unsigned long nfds,
	int64_t timeout_ns);

#endif
