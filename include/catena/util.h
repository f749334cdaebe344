/* Catena util: error codes and the thread-local error message, the log
 * sink, hex, size-capped buffers, ISO 8601 UTC time, JSON helpers over
 * jansson, and child processes in their own process group. */
#ifndef CATENA_UTIL_H
#define CATENA_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

/* Every library function returns 0 on success or one of these negative
 * codes; the detail goes to a thread-local message (ct_error_last). */
typedef enum ct_err {
    CT_OK = 0,
    CT_ENOMEM = -1,    /* allocation failed */
    CT_EINVAL = -2,    /* invalid argument or input value */
    CT_EPARSE = -3,    /* malformed input (JSON, RLP, ABI, time...) */
    CT_ENOTFOUND = -4, /* no such object */
    CT_EIO = -5,       /* I/O or system call failure */
    CT_ETIMEOUT = -6,  /* deadline passed */
    CT_ERPC = -7,      /* JSON-RPC transport or node error */
    CT_EREVERT = -8,   /* a contract call or transaction reverted */
    CT_ERANGE = -9,    /* value out of range for its type */
    CT_ELIMIT = -10,   /* a size or depth cap was hit */
    CT_EEXIST = -11,   /* object already exists */
    CT_EAUTH = -12,    /* authentication or authorisation failed */
    CT_ECRYPTO = -13,  /* cryptographic failure (bad key, MAC mismatch) */
    CT_ESTATE = -14,   /* operation not valid in the current state */
    CT_EBEHIND = -15   /* a chain node has not reached a block asked of it */
} ct_err;

/* Stores code and a printf-style message in this thread's error slot.
 * Returns: code, so callers can write `return ct_error_set(...)`. */
int ct_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like ct_error_set, taking a va_list. */
int ct_error_vset(int code, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Prepends "prefix: " to this thread's message, keeping its code.
 * Returns: the stored code. */
int ct_error_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Returns: this thread's last message (borrowed, valid until the next
 * ct_error_* call on this thread); "" if none. */
const char *ct_error_last(void);

/* Returns: this thread's last code, CT_OK if none. */
int ct_error_code(void);

void ct_error_clear(void);

/* Returns: a static name for code ("invalid argument", ...). */
const char *ct_strerror(int code);

/* ---------------------------------------------------------------- logging */

typedef enum ct_log_level {
    CT_LOG_ERROR = 0,
    CT_LOG_WARN = 1,
    CT_LOG_INFO = 2,
    CT_LOG_DEBUG = 3
} ct_log_level;

/* A log sink receives one message without a trailing newline. */
typedef void (*ct_log_cb)(int level, const char *msg, void *payload);

/* Sets the process-wide sink and the most verbose level it receives.
 * A NULL cb discards everything (the default). Not thread safe against
 * concurrent ct_log calls: set it once at start-up. */
void ct_log_set(int level, ct_log_cb cb, void *payload);

/* Sends a message to the sink if level is enabled. Thread safe. */
void ct_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs the end of the file at path (the log of a child process that
 * died, so what it said reaches the operator): at most its last 700
 * bytes, other control characters than newlines shown as '?', after
 * "<what> (<path>) ends:". Nothing when path is NULL or cannot be read. */
void ct_log_file_end(int level, const char *what, const char *path);

/* Returns: whether messages at level reach the sink. */
bool ct_log_enabled(int level);

/* Returns: "error", "warn", "info" or "debug". */
const char *ct_log_level_name(int level);

/* Parses "error", "warn", "info" or "debug" into *out.
 * Returns: 0, or CT_EINVAL. */
int ct_log_level_parse(int *out, const char *name);

/* ---------------------------------------------------------------- hex */

/* Writes in as lowercase hex (with "0x" when prefix) and a NUL into out.
 * Args: out_size must be at least 2 * in_len + 1 (+2 with prefix).
 * Returns: 0, or CT_ELIMIT when out is too small. */
int ct_hex_encode(char *out, size_t out_size, const uint8_t *in, size_t in_len, bool prefix);

/* Decodes hex of even length, with or without "0x", either case.
 * Out: out receives the bytes, *out_len their count.
 * Returns: 0, CT_EPARSE (odd length or non-hex digit, message says where),
 *          or CT_ELIMIT when more than out_cap bytes would be written. */
int ct_hex_decode(uint8_t *out, size_t out_cap, size_t *out_len, const char *hex, size_t hex_len);

/* Returns: the value of one hex digit (either case), or -1. */
int ct_hex_digit(char c);

/* Decodes "0x"-prefixed hex (the prefix is required) into a new buffer.
 * Out: *out malloc'd (caller frees; never NULL on success), *out_len.
 * Returns: 0, CT_EPARSE or CT_ENOMEM. */
int ct_hex_decode_new(uint8_t **out, size_t *out_len, const char *hex);

/* ---------------------------------------------------------------- buffers */

/* A growable byte buffer that refuses to grow past max (curl's dynbuf).
 * The bytes are always NUL terminated (not counted in len), so text
 * buffers can be used as C strings. */
typedef struct ct_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
} ct_buf;

/* Initialises an empty buffer that may hold at most max bytes. */
void ct_buf_init(ct_buf *b, size_t max);

/* Appends n bytes. Returns: 0, CT_ELIMIT past max, or CT_ENOMEM. On
 * failure the buffer is unchanged. */
int ct_buf_append(ct_buf *b, const void *data, size_t n);

/* Appends formatted text. Returns as ct_buf_append. */
int ct_buf_appendf(ct_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Empties the buffer, keeping its memory. */
void ct_buf_reset(ct_buf *b);

/* Frees the memory; the buffer is then empty and may be reused. */
void ct_buf_free(ct_buf *b);

/* Hands the bytes to the caller (free with free()) and empties b.
 * Returns: the bytes, never NULL on an initialised buffer unless out of
 * memory (then NULL). */
char *ct_buf_detach(ct_buf *b);

/* ---------------------------------------------------------------- time */

/* Length of "2018-09-11T14:46:23.470Z" plus its NUL. */
#define CT_TIME_ISO8601_SIZE 25

/* Parses an ISO 8601 / RFC 3339 date-time into milliseconds since the
 * Unix epoch, UTC. Accepts "YYYY-MM-DDTHH:MM:SS", an optional fraction of
 * 1 to 9 digits (truncated to milliseconds), and "Z" or "+HH:MM"/"-HH:MM".
 * A lowercase "t"/"z" or a space separator are accepted as RFC 3339 allows.
 * Returns: 0, or CT_EPARSE naming what is wrong. */
int ct_time_parse(int64_t *out_ms, const char *s);

/* Formats ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ".
 * Returns: 0, or CT_ERANGE outside years 0000-9999. */
int ct_time_format(char out[CT_TIME_ISO8601_SIZE], int64_t ms);

/* Returns: wall-clock milliseconds since the epoch. */
int64_t ct_time_now_ms(void);

/* Returns: a monotonic clock in milliseconds, for deadlines. */
int64_t ct_time_mono_ms(void);

/* Sets *out to ms milliseconds from now on clock (CLOCK_REALTIME or
 * CLOCK_MONOTONIC, as the condition variable waited on uses), for
 * pthread_cond_timedwait. */
struct timespec;
void ct_time_after(struct timespec *out, int clock, int64_t ms);

/* Sleeps ms milliseconds, resuming after signal interruptions. */
void ct_sleep_ms(int ms);

/* ---------------------------------------------------------------- JSON */

/* Limits applied to untrusted JSON text. */
#define CT_JSON_MAX_DEPTH 64

/* Parses untrusted JSON text of len bytes, rejecting nesting deeper than
 * max_depth, duplicate keys and a NUL inside the text.
 * Out: *out is a new reference owned by the caller.
 * Returns: 0, CT_EPARSE (message has line:column), or CT_ELIMIT (depth). */
int ct_json_parse(json_t **out, const char *text, size_t len, size_t max_depth);

/* The same, but strings may hold NUL (\u0000): for values whose length is
 * taken with json_string_length (ABI strings), never for text that ends
 * up in C strings. */
int ct_json_parse_with_nul(json_t **out, const char *text, size_t len, size_t max_depth);

/* Returns: the nesting depth of v (a scalar is 1). Iterative, so safe on
 * any tree jansson could build. */
size_t ct_json_depth(const json_t *v);

/* Field getters for request bodies: they fail with a message naming the
 * field when it is missing (unless optional) or of the wrong type.
 * Out: borrowed pointers stay valid while obj lives.
 * Returns: 0, CT_ENOTFOUND when an optional field is absent (out untouched),
 *          or CT_EINVAL. */
int ct_json_get_string(const char **out, const json_t *obj, const char *key, bool optional);
int ct_json_get_int(int64_t *out, const json_t *obj, const char *key, bool optional);
int ct_json_get_bool(bool *out, const json_t *obj, const char *key, bool optional);

/* Checks that obj is an object whose keys are all in allowed (a NULL
 * terminated list). Returns: 0, or CT_EINVAL naming the first unknown key. */
int ct_json_check_keys(const json_t *obj, const char *const *allowed);

/* Returns: a new JSON string "0x" + hex of data, or NULL when out of
 * memory. */
json_t *ct_json_hex(const uint8_t *data, size_t len);

/* json_dumps(v, flags | JSON_ENCODE_ANY) with reals printed in their
 * shortest form that reads back exactly (99.9, not 99.900000000000006):
 * every real with the fewest digits that round-trips the one needing most.
 * Returns: a malloc'd string, or NULL when out of memory. */
char *ct_json_dumps(const json_t *v, size_t flags);

/* Serialises v compactly with keys in insertion order (reals as in
 * ct_json_dumps).
 * Out: *out is malloc'd, owned by the caller.
 * Returns: 0 or CT_ENOMEM. */
int ct_json_dump(char **out, const json_t *v);

/* ---------------------------------------------------------------- numbers */

/* Parses an unsigned integer in decimal or "0x" hex, with no sign, no
 * spaces and nothing after it, that is at most max.
 * Returns: 0, CT_EPARSE (not a number) or CT_ERANGE (above max). */
int ct_parse_uint(uint64_t *out, const char *s, uint64_t max);

/* splitmix64: the next pseudo-random number from *state (any seed). For
 * reproducible simulations and searches, not for keys. */
uint64_t ct_rand_next(uint64_t *state);

/* A pseudo-random double in [0, 1) from *state (53 bits of ct_rand_next). */
double ct_rand_unit(uint64_t *state);

/* ---------------------------------------------------------------- uint256 */

/* An unsigned 256-bit integer, big-endian, as Ethereum serialises it (wei
 * amounts, gas prices, ABI uint256). */
typedef struct ct_u256 {
    uint8_t b[32];
} ct_u256;

/* Decimal digits of 2^256 - 1 (78) plus NUL. */
#define CT_U256_DEC_SIZE 79
/* "0x" + 64 hex digits + NUL. */
#define CT_U256_HEX_SIZE 67

/* Parses decimal or "0x" hex (either case, no sign, no spaces, at most 64
 * hex digits, leading zeros allowed).
 * Returns: 0, CT_EPARSE or CT_ERANGE (>= 2^256). */
int ct_u256_parse(ct_u256 *out, const char *s);

void ct_u256_from_u64(ct_u256 *out, uint64_t v);

/* Returns: 0, or CT_ERANGE if v does not fit 64 bits. */
int ct_u256_to_u64(uint64_t *out, const ct_u256 *v);

/* Formats in decimal ("0" for zero). */
void ct_u256_format_dec(char out[CT_U256_DEC_SIZE], const ct_u256 *v);

/* Formats as a JSON-RPC quantity: "0x" + hex without leading zeros
 * ("0x0" for zero). */
void ct_u256_format_hex(char out[CT_U256_HEX_SIZE], const ct_u256 *v);

bool ct_u256_is_zero(const ct_u256 *v);

/* Returns: <0, 0, >0 as a is less than, equal to, greater than b. */
int ct_u256_cmp(const ct_u256 *a, const ct_u256 *b);

/* Returns: the number of significant bits (0 for zero). */
unsigned ct_u256_bits(const ct_u256 *v);

/* out = a + b. Returns: 0 or CT_ERANGE on overflow (out unchanged). */
int ct_u256_add(ct_u256 *out, const ct_u256 *a, const ct_u256 *b);

/* out = a * m. Returns: 0 or CT_ERANGE on overflow (out unchanged). */
int ct_u256_mul_u64(ct_u256 *out, const ct_u256 *a, uint64_t m);

/* ---------------------------------------------------------------- processes */

/* A child process running in its own process group, so stopping it also
 * stops whatever it started (node, browsers, ...). */
typedef struct ct_proc {
    pid_t pid;  /* also the process group id; 0 when not running */
    int status; /* wait status once reaped */
} ct_proc;

/* Starts argv[0] (searched in PATH) with argv, in a new process group, in
 * directory cwd (NULL: unchanged), with stdin from /dev/null and stdout and
 * stderr appended to log_path (NULL: inherited). The child receives SIGKILL
 * if the calling thread's process dies (PR_SET_PDEATHSIG), so a crashed
 * parent does not leave it running.
 * Returns: 0, or CT_EIO when the program cannot be started (message says
 * why; an exec failure is detected before returning). */
int ct_proc_spawn(ct_proc *out, char *const argv[], const char *cwd, const char *log_path);

/* What ct_proc_spawn_opts starts, and how. */
typedef struct ct_proc_opts {
    char *const *argv;    /* argv[0] is searched in PATH */
    const char *cwd;      /* NULL: unchanged */
    const char *log_path; /* stdout and stderr appended there; NULL: inherited */
    char *const *env;     /* "NAME=value" entries added to (or replacing in)
                           * our environment, NULL terminated; NULL: none */
    bool outlive_parent;  /* no PR_SET_PDEATHSIG: the child keeps running
                           * when we die (services an orchestrator started) */
} ct_proc_opts;

/* ct_proc_spawn with the options above. Returns: as ct_proc_spawn, plus
 * CT_ENOMEM. */
int ct_proc_spawn_opts(ct_proc *out, const ct_proc_opts *o);

/* Returns: true while the process has not exited (reaps it if it has). */
bool ct_proc_alive(ct_proc *p);

/* Sends SIGTERM to the whole group, waits up to grace_ms for the leader to
 * exit, then sends SIGKILL to the group, and reaps the leader. Safe on a
 * process that already exited, and on a zeroed ct_proc.
 * Returns: 0, or CT_EIO if waitpid fails. */
int ct_proc_stop(ct_proc *p, int grace_ms);

/* Sends sig to the group without waiting (for signal handlers:
 * async-signal-safe). */
void ct_proc_signal(const ct_proc *p, int sig);

/* ---------------------------------------------------------------- work queue */

/* A fixed pool of threads running queued jobs in FIFO order (workq.c). */
typedef struct ct_workq ct_workq;
typedef void (*ct_work_fn)(void *arg);

/* Starts `threads` workers; at most max_queued jobs may wait.
 * Returns: 0, CT_ENOMEM or CT_EIO. */
int ct_workq_new(ct_workq **out, size_t threads, size_t max_queued);

/* Queues fn(arg). Returns: 0; CT_ELIMIT when max_queued jobs are waiting
 * or the queue is draining (nothing was queued); CT_ENOMEM. Thread safe. */
int ct_workq_push(ct_workq *q, ct_work_fn fn, void *arg);

/* Returns: how many jobs are queued or running now. Thread safe. */
size_t ct_workq_busy(ct_workq *q);

/* Refuses new jobs from now on and waits until every queued or running
 * job has returned. */
void ct_workq_drain(ct_workq *q);

/* Drains, ends the threads and frees; NULL is a no-op. */
void ct_workq_free(ct_workq *q);

/* ---------------------------------------------------------------- network */

/* Finds a TCP port on 127.0.0.1 that is free right now: drawn at random
 * below the kernel's ephemeral range (so no outgoing connection takes it
 * before its service listens), not one this process handed out lately;
 * the kernel's choice (port 0) when none is found there.
 * Returns: 0, or CT_EIO. */
int ct_net_free_port(uint16_t *out);

/* Returns: whether a TCP connection to 127.0.0.1:port succeeds now. */
bool ct_net_can_connect(uint16_t port);

/* ---------------------------------------------------------------- HTTP */

/* Sends one HTTP request (libcurl) with an optional bearer token and body
 * text as application/json, waiting up to timeout_ms.
 * Out: *status the HTTP status; *out the answer parsed as JSON (new ref),
 * or NULL when the body is empty or not JSON.
 * Returns: 0 whatever the status, or CT_EIO when nothing answered. */
int ct_http_request(long *status, json_t **out, const char *method, const char *url,
                    const char *token, const char *body, int timeout_ms);

/* ct_http_request with an Idempotency-Key header (idem_key may be NULL),
 * so that the gateway does a retried write once. */
int ct_http_request_idem(long *status, json_t **out, const char *method, const char *url,
                         const char *token, const char *idem_key, const char *body, int timeout_ms);

/* ct_http_request with more headers: a NULL-terminated list of
 * "Name: value" lines (may be NULL). */
int ct_http_request_with(long *status, json_t **out, const char *method, const char *url,
                         const char *token, const char *const *headers, const char *body,
                         int timeout_ms);

/* One JSON exchange with base + path (body may be NULL), errors cleared.
 * Out: *out (may be NULL) the answer as JSON, or NULL.
 * Returns: the HTTP status, 0 when nothing answered in timeout_ms. */
long ct_http_json(json_t **out, const char *method, const char *base, const char *path,
                  const json_t *body, int timeout_ms);

/* ---------------------------------------------------------------- files */

/* Reads a whole file of at most max bytes, NUL terminated.
 * Out: *out malloc'd (caller frees), *out_len its length (may be NULL).
 * Returns: 0, CT_ENOTFOUND, CT_EIO, CT_ELIMIT or CT_ENOMEM. */
int ct_file_read(char **out, size_t *out_len, const char *path, size_t max);

/* Reads the last size - 1 bytes of a file (all of a shorter one) into
 * buf, NUL terminated, whatever the file's size (a log that grew large).
 * Returns: the bytes read, or -1 when it cannot be read. */
long ct_file_tail(char *buf, size_t size, const char *path);

/* Writes data to path atomically (temporary file in the same directory,
 * fsync, rename) with the given mode. Returns: 0 or CT_EIO. */
int ct_file_write_atomic(const char *path, const void *data, size_t len, unsigned mode);

#ifdef __cplusplus
}
#endif

#endif /* CATENA_UTIL_H */
