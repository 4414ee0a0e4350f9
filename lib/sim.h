/* sim.h: the paper-trading engine behind tf-sim. Seeded prices, a strategy
 * it trades, a model it fits, patterns it finds; each call writes one event
 * line into the caller's buffer. No I/O, no clock: the caller stamps time. */
#ifndef TF_SIM_H
#define TF_SIM_H

#include <stddef.h>
#include <stdint.h>

#define TF_SIM_MAX_SYMBOLS 64
#define TF_SIM_SYMBOL_MAX 16	/* bytes of a symbol name, with its NUL */
#define TF_SIM_ASSET_MAX 16	/* bytes of an asset name, with its NUL */
/* No event line is longer than this, "\n" and NUL included. */
#define TF_SIM_LINE_MAX 4096

struct tf_sim_symbol {
	char name[TF_SIM_SYMBOL_MAX];	/* "BTC-USD" */
	double price;			/* starting price, > 0 */
};

struct tf_sim_config {
	int nsymbols;
	struct tf_sim_symbol symbols[TF_SIM_MAX_SYMBOLS];
	double drift;		/* mean log return per price step */
	double volatility;	/* standard deviation of it, >= 0 */
	double cash;		/* starting balance in the quote currency */
	double fee;		/* fee rate on each fill's notional, 0..0.1 */
	uint64_t seed;
	int stopped;		/* the bot starts stopped */
	int64_t heartbeat_ms;	/* event time between heartbeats, > 0 */
	int64_t status_ms;	/* event time between system_status, > 0 */
};

/* Fills cfg with the defaults: BTC-USD, ETH-USD and SOL-USD, no drift,
 * volatility 0.002 per step, 100000 of cash, fee 0.001, seed 1,
 * heartbeat every 5 s and system_status every 10 s of event time. */
void tf_sim_config_init(struct tf_sim_config *cfg);

/* Replaces cfg's symbols with a comma-separated list of SYMBOL[:PRICE]
 * ("BTC-USD:65000,ETH-USD"). A symbol without a price takes its default
 * when it has one, else 100. Symbols are BASE-QUOTE (a bare name is
 * quoted in USD), all in one quote currency, each base once. Returns 0, or
 * -1 with err filled and cfg unchanged. */
int tf_sim_parse_symbols(struct tf_sim_config *cfg, const char *list,
	char *err, size_t errlen);

struct tf_sim;

/* Creates an engine from cfg (copied). Returns NULL with err filled when
 * cfg is invalid or memory is short; tf_sim_destroy frees it. */
struct tf_sim *tf_sim_create(const struct tf_sim_config *cfg, char *err,
	size_t errlen);
void tf_sim_destroy(struct tf_sim *sim);

/* Writes the next event, stamped ts_ms (epoch milliseconds, never
 * decreasing from call to call), into buf as one JSON object ending in
 * "\n", NUL-terminated. Returns its length without the NUL, or 0 when size
 * is below TF_SIM_LINE_MAX (nothing is consumed then). */
size_t tf_sim_next(struct tf_sim *sim, int64_t ts_ms, char *buf,
	size_t size);

enum tf_sim_action {
	TF_SIM_START,
	TF_SIM_STOP,
	TF_SIM_RESTART,
};

/* "start", "stop", "restart" to an action, or -1. */
int tf_sim_action_parse(const char *s, size_t n);
const char *tf_sim_action_name(enum tf_sim_action a);

/* Applies a control action now: stop cancels the orders not yet filled and
 * halts trading (prices keep flowing), start resumes it, restart does both
 * and forgets the strategy's state. Each action is announced (bot_stopped,
 * bot_started, even when the state does not change) by the next calls of
 * tf_sim_next. */
void tf_sim_control(struct tf_sim *sim, enum tf_sim_action a);

/* Nonzero while the bot trades. */
int tf_sim_running(const struct tf_sim *sim);

/* Names of the strategy, model and patterns, for documentation and logs. */
extern const char tf_sim_strategy_name[];
extern const char tf_sim_model_name[];

#endif
