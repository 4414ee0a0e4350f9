/* dash.h: the dashboard's state, kept from the event stream in bounded
 * memory: latest values per symbol, candles per symbol and timeframe,
 * portfolio and its equity curve, the last trades, orders, alerts,
 * predictions and patterns, system status and bot state, positions and
 * round trips derived from the fills, profit and trading metrics.
 * tf-serve applies every good line to it and answers its REST routes from
 * it. Lines are kept verbatim and written back verbatim into the JSON. */
#ifndef TF_DASH_H
#define TF_DASH_H

#include <stddef.h>
#include <stdint.h>

struct tf_buf;
struct tf_event;

enum tf_dash_tf {
	TF_DASH_1S = 0,
	TF_DASH_1M,
	TF_DASH_5M,
	TF_DASH_15M,
	TF_DASH_1H,
	TF_DASH_4H,
	TF_DASH_1D,
	TF_DASH_NTF
};

/* Order ids kept per round trip (the first ones, each once), and the
 * longest id kept (its JSON text, quotes included). */
#define TF_DASH_TRIP_IDS 20
#define TF_DASH_ID_MAX 128
/* Days of profit.daily kept: the latest day and the 364 before it. */
#define TF_DASH_DAYS 365

struct tf_dash_config {
	size_t candles;		/* per symbol and timeframe (1000) */
	size_t trades;		/* trade_executed lines kept (500) */
	size_t orders;		/* order_placed/order_cancelled (500) */
	size_t alerts;		/* (500) */
	size_t predictions;	/* (200) */
	size_t patterns;	/* (200) */
	size_t equity;		/* points of the equity curve (5000) */
	size_t max_symbols;	/* distinct symbols; more are not kept (1000) */
	size_t snapshot_candles; /* per series in tf_dash_snapshot (300) */
	size_t round_trips;	/* closed round trips kept (500) */
	/* candle slots of all series together (500000: 32 MB), at least
	 * TF_DASH_NTF * candles (one symbol's series) */
	size_t max_candles;
};

/* Fills cfg with the defaults above. Every limit must be at least 1. */
void tf_dash_config_init(struct tf_dash_config *cfg);

struct tf_dash;

/* A state for cfg. NULL with err filled (ENOMEM, a zero limit,
 * max_candles below TF_DASH_NTF * candles). Memory grows with use, up to
 * the limits: candles take 64 bytes each (a series grows as its buckets
 * pass, so a 1d series holds one a day; its slots double from 16 up to
 * candles), at most max_candles slots in all: a series that must grow
 * past that first drops every series of the symbol ticked least recently
 * (series_evicted), never those of the symbol being ticked. Kept lines
 * take their length, a round trip about 100 bytes and its order ids. */
struct tf_dash *tf_dash_create(const struct tf_dash_config *cfg, char *err,
	size_t errlen);
/* NULL does nothing. */
void tf_dash_destroy(struct tf_dash *d);

/* How lines become state:
 * - price_update/ticker_update with a "symbol" string: the symbol's latest
 *   line; with a finite "price" > 0 also a tick of its candle series
 *   (bucket floor(ts / period) * period; a price_update's "volume" is
 *   cumulative, so a candle's "v" sums its rises from tick to tick). A
 *   tick for an older bucket updates that candle while it is kept
 *   (open/close by time within the bucket, ties by arrival), else it is
 *   ignored (late_ticks). Symbols past max_symbols are not kept.
 * - ml_prediction: resolved at its symbol's "horizon"-th good tick after
 *   it: "actual" that tick's price, "correct" whether the move from its
 *   "price" (else the symbol's last price) has its "direction" ("up" or
 *   "down"; without one, the side "predicted_price" is on); null when
 *   there is no base price or direction, never resolved without horizon.
 * - bot state: bot_started/bot_stopped, and system_status's "bot" field
 *   ("running"/"stopped"); "since" is the ts of the change.
 * - trade_executed: kept in the trades ring; a fill (a "symbol" string,
 *   "side" "buy" or "sell", finite "quantity" > 0 and "price" > 0, "fee"
 *   absent or finite >= 0) also moves its symbol's position. A round
 *   trip opens when the position leaves 0 and closes when it returns to
 *   0 (within 1e-9 of its largest size); a fill that crosses 0 closes the
 *   trip with the part that reaches 0 and opens the next with the rest,
 *   its fee split by quantity. Realized P&L of a trip = its sells'
 *   quantity * price - its buys' - its fees. Other trade_executed lines
 *   count as bad_fills.
 * - stop: a number > 0 in "stop" of a fill or an order_placed sets its
 *   symbol's stop, null clears it, and a closing trip clears it: the
 *   stop of an open position is the latest one given since the symbol's
 *   previous trip closed.
 * - metrics count every trade_executed, round trip and equity point ever
 *   applied, not only those still in the rings. */

/* Applies one good line (validated by the caller; ev its well-known
 * fields from tf_event_check on this very line, or NULL to have them
 * found: a line that is then not a JSON object is ignored). arrival_ms is
 * the time to use when the line has no usable "ts" (epoch ms as a number,
 * or a string tf_parse_time reads). Lines of types the dashboard does not
 * keep cost one type comparison. The line is copied: the caller keeps
 * its buffer. Returns 0, or -1 when memory ran out (the state stays
 * consistent, the line is not kept). */
int tf_dash_apply(struct tf_dash *d, const char *line, size_t len,
	const struct tf_event *ev, int64_t arrival_ms);

/* Applies every row of the recording at path (read only; a recording
 * still being written is fine), in arrival order, the row's arrival time
 * standing in for a missing "ts". *rows (if not NULL) gets the number
 * applied. Returns 0, or -1 with err filled (no such file, not a
 * recording, ...). */
int tf_dash_backfill(struct tf_dash *d, const char *path, uint64_t *rows,
	char *err, size_t errlen);

/* "1s", "1m", "5m", "15m", "1h", "4h", "1d" to its tf, or -1. */
int tf_dash_tf_parse(const char *s);
const char *tf_dash_tf_name(int tf);

/* The JSON writers append one JSON value (no "\n") to b. Buffer failure
 * shows as b->failed. */

/* The members of /api/snapshot after "server", "epoch", "seq" and "now"
 * (which the caller writes): ,"symbols":{...},"candles":{...},...,
 * "positions":[...],"round_trips":[...],"profit":{...},"metrics":{...}
 * -- starting with a comma, without the braces, so the caller wraps it:
 * {"server":...,"seq":N<this>}. "symbols" and "candles" hold the known
 * symbols in order of arrival, each series its last snapshot_candles. */
void tf_dash_snapshot_members(const struct tf_dash *d, struct tf_buf *b);

/* {"symbol":S,"tf":"1m","candles":[...]} oldest first, for t in
 * [from_ms, to_ms) (0: open). A symbol is known once a price_update or
 * ticker_update of it was kept (the keys of "symbols" in the snapshot).
 * Returns 0, or -1 when the symbol is unknown or tf is not a
 * tf_dash_tf (nothing written). */
int tf_dash_candles(const struct tf_dash *d, const char *symbol, int tf,
	int64_t from_ms, int64_t to_ms, struct tf_buf *b);

/* {"trades":[...]} oldest first: the last limit (0: all kept) of symbol
 * (NULL: every symbol). */
void tf_dash_trades(const struct tf_dash *d, const char *symbol,
	size_t limit, struct tf_buf *b);

/* {"alerts":[...]} oldest first: the last limit (0: all kept) of priority
 * min_priority (0 low .. 3 critical, tf_priority_parse) and above; an
 * alert with no or an unknown priority counts as low. */
void tf_dash_alerts(const struct tf_dash *d, int min_priority, size_t limit,
	struct tf_buf *b);

/* {"positions":[...],"round_trips":[...],"profit":{...}} (/api/trading):
 * - positions: the open ones, opened_ts ascending: {"symbol","side"
 *   ("long"|"short"),"quantity","avg_entry" (of the fills that raised
 *   it),"last" (the latest price tick, null before one),"unrealized_pnl",
 *   "unrealized_pct" (null without last),"stop" (null: none),
 *   "opened_ts"}.
 * - round_trips: the last round_trips closed, oldest first: {"symbol",
 *   "side","quantity" (largest size),"entry_price","exit_price",
 *   "opened_ts","closed_ts","duration_ms","pnl","fees","pnl_pct",
 *   "order_ids":[...]}.
 * - profit: {"daily":[{"day":"YYYY-MM-DD","pnl","trips","wins",
 *   "losses"}] by UTC day of closing, the last TF_DASH_DAYS days;
 *   "by_symbol":[{"symbol","pnl","trips","wins","losses","fees"}] in
 *   order of the symbols' first sight; "cumulative":[[closed_ts,
 *   realized P&L so far],...] the last `equity` trips}. */
void tf_dash_trading(const struct tf_dash *d, struct tf_buf *b);

/* {"positions":[...]}, as in tf_dash_trading. */
void tf_dash_positions(const struct tf_dash *d, struct tf_buf *b);

/* The metrics object of /api/metrics. trades counts trade_executed
 * lines; round_trips, wins (pnl > 0), losses (pnl < 0), win_rate, the
 * P&L figures and max_drawdown_realized come from the closed round trips
 * ever, fees from every fill. max_drawdown (fraction) and
 * max_drawdown_value (currency) are each the largest over the equity
 * curve, 0 before any fall; null when unknown or undefined: peak,
 * win_rate, profit_factor, avg_win, avg_loss, best, worst, total_value,
 * pnl and pnl_pct. */
void tf_dash_metrics(const struct tf_dash *d, struct tf_buf *b);

/* The latest system_status line, or "null". */
void tf_dash_engine_status(const struct tf_dash *d, struct tf_buf *b);

/* {"state":"running"|"stopped"|"unknown","since":ms|null,"event":...} */
void tf_dash_bot(const struct tf_dash *d, struct tf_buf *b);

/* What the state did with the lines (/api/system shows them). */
struct tf_dash_counters {
	uint64_t events;	/* lines applied */
	uint64_t kept;		/* lines kept in some part of the state */
	uint64_t symbols;	/* distinct symbols kept */
	uint64_t symbols_dropped; /* lines whose symbol is past max_symbols */
	uint64_t bad_prices;	/* price ticks without a finite price > 0 */
	uint64_t late_ticks;	/* candle updates ignored as too old */
	uint64_t bad_fills;	/* trade_executed lines that are no fill */
	uint64_t nomem;		/* lines not kept for lack of memory */
	uint64_t candles;	/* candle slots held (64 bytes each) */
	uint64_t series_evicted; /* symbols whose series went for max_candles */
};
void tf_dash_counters(const struct tf_dash *d, struct tf_dash_counters *c);

#endif
