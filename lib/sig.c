/* sig.c: SIGINT/SIGTERM request a clean stop, and the program then ends by
 * that signal; SIGPIPE/SIGXFSZ become errors on the write that caused
 * them; SIGUSR1 asks for stats. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sig.h"

static volatile sig_atomic_t stop_sig;
static volatile sig_atomic_t stops;	/* SIGINT/SIGTERM received */
static volatile sig_atomic_t usr1;
/* stops when tf_signal_wait last returned for a stop signal: a wait
 * returns at once only for one it has not reported yet, so a program
 * finishing its work after a stop can still wait, and see a second one. */
static sig_atomic_t stops_seen;

static void
on_stop(int sig)
{
	if (!stop_sig)
		stop_sig = sig;
	if (stops < 1000)
		stops++;
}

static void
on_usr1(int sig)
{
	(void)sig;
	usr1 = 1;
}

/* Runs at exit, once main has finished the work as it does at EOF. After
 * a stop signal the process ends by that signal, as cat does: the shell
 * that ran it sees status 128+N and stops too (a loop, make, set -e), and
 * systemd counts SIGTERM as a clean stop. The status main returned is
 * dropped then; what failed was said on stderr. */
static void
reraise(void)
{
	struct sigaction sa;
	sigset_t set;
	int sig = stop_sig;

	if (!sig)
		return;
	/* exit() flushes stdio only after the atexit handlers. */
	fflush(NULL);
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	sigaction(sig, &sa, NULL);
	/* tf_signal_wait keeps the stop signals blocked outside its waits;
	 * raise() sends to this thread, which must let it in. */
	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
}

void
tf_signals_init(void)
{
	static int registered;
	struct sigaction sa;

	if (!registered && atexit(reraise) == 0)
		registered = 1;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;	/* no SA_RESTART: blocking calls return */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGXFSZ, &sa, NULL);
}

int
tf_signal_stop(void)
{
	return stop_sig;
}

int
tf_signal_stops(void)
{
	return stops;
}

int
tf_signal_usr1(void)
{
	if (!usr1)
		return 0;
	usr1 = 0;
	return 1;
}

int
tf_signal_wait(struct pollfd *fds, unsigned long nfds, int64_t timeout_ns)
{
	static sigset_t orig;
	static int blocked;
	struct timespec ts, *tp = NULL;
	sigset_t pending;
	int rc;

	if (!blocked) {
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, &orig);
		blocked = 1;
	}
	if (stops != stops_seen || usr1) {
		stops_seen = stops;
		errno = EINTR;
		return -1;
	}
	if (timeout_ns >= 0) {
		ts.tv_sec = timeout_ns / 1000000000;
		ts.tv_nsec = timeout_ns % 1000000000;
		tp = &ts;
	}
	rc = ppoll(fds, nfds, tp, &orig);
	if (rc < 0)
		stops_seen = stops;
	/* When a descriptor was ready, ppoll restores the mask without
	 * delivering signals that arrived meanwhile: let them in now. */
	if (rc >= 0 && sigpending(&pending) == 0 &&
	    (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM) ||
		sigismember(&pending, SIGUSR1))) {
		sigset_t cur;

		sigprocmask(SIG_SETMASK, &orig, &cur);
		sigprocmask(SIG_SETMASK, &cur, NULL);
	}
	return rc;
}
