/*
 * A small test harness for the C programs in tests/c: checks that count and
 * report, the sandbox's settings from the environment (tests/c/run.sh exports
 * them from the sandbox's manifest.json), its admin API through curl, and
 * JSON building.
 *
 * Each program includes this file once (the helpers are static).
 */
#ifndef NZPIR_TEST_HARNESS_H
#define NZPIR_TEST_HARNESS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nzpir.h"

static int checks_passed;
static int checks_failed;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (cond) {                                                              \
            checks_passed++;                                                     \
        } else {                                                                 \
            checks_failed++;                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

#define CHECK_STR(actual, expected)                                              \
    do {                                                                         \
        const char *a_ = (actual);                                               \
        const char *e_ = (expected);                                             \
        if (a_ != NULL && e_ != NULL && strcmp(a_, e_) == 0) {                   \
            checks_passed++;                                                     \
        } else {                                                                 \
            checks_failed++;                                                     \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__,  \
                    __LINE__, #actual, a_ ? a_ : "(null)", e_ ? e_ : "(null)");  \
        }                                                                        \
    } while (0)

/* Checks a call's status and, when it failed, that an error came with it and
 * carries the same status. Frees the error. */
#define CHECK_STATUS(call_status, err, expected)                                  \
    do {                                                                          \
        nzpir_status s_ = (call_status);                                          \
        if (s_ == (nzpir_status)(expected)) {                                     \
            checks_passed++;                                                      \
        } else {                                                                  \
            checks_failed++;                                                      \
            fprintf(stderr, "%s:%d: status %s, expected %s (%s)\n", __FILE__,     \
                    __LINE__, nzpir_status_name(s_), nzpir_status_name(expected), \
                    nzpir_error_message(err));                                    \
        }                                                                         \
        if ((expected) != NZPIR_STATUS_OK) {                                      \
            CHECK((err) != NULL);                                                 \
            CHECK(nzpir_error_status(err) == (nzpir_status)(expected));           \
            CHECK(strlen(nzpir_error_message(err)) > 0);                          \
        }                                                                         \
        nzpir_error_free(err);                                                    \
        (err) = NULL;                                                             \
    } while (0)

/* The program's summary line, and its exit status. */
static inline int finish(const char *program) {
    printf("%s: %d passed, %d failed\n", program, checks_passed, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}

/* A required environment variable (run.sh sets them). */
static inline const char *env(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0') {
        fprintf(stderr, "environment variable %s is not set (run tests/c/run.sh)\n", name);
        exit(2);
    }
    return v;
}

/* Whether `haystack` contains `needle`. */
static inline int contains(const char *haystack, const char *needle) {
    return haystack != NULL && needle != NULL && strstr(haystack, needle) != NULL;
}

/* A growable string for building JSON. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} buf_t;

static inline void buf_reserve(buf_t *b, size_t more) {
    if (b->len + more + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + more + 1 > cap) {
            cap *= 2;
        }
        char *p = realloc(b->data, cap);
        if (p == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }
        b->data = p;
        b->cap = cap;
    }
}

static inline void buf_add(buf_t *b, const char *s) {
    size_t n = strlen(s);
    buf_reserve(b, n);
    memcpy(b->data + b->len, s, n + 1);
    b->len += n;
}

/* Appends `s` as a JSON string literal. */
static inline void buf_add_json_string(buf_t *b, const char *s) {
    buf_add(b, "\"");
    for (; *s; s++) {
        char esc[8];
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            esc[2] = '\0';
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
        } else {
            esc[0] = (char)c;
            esc[1] = '\0';
        }
        buf_add(b, esc);
    }
    buf_add(b, "\"");
}

static inline void buf_free(buf_t *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/*
 * A client configuration as JSON for the sandbox: mutual TLS with `cert`/`key`
 * (NULL: none), the sandbox CA when `with_ca`, and `extra` (raw JSON members,
 * starting with a comma, or "") after them; `auth` is the raw JSON of the
 * auth object, or NULL for M2M JWT with the sandbox's RS256 credential.
 * The caller frees the result with free().
 */
static inline char *sandbox_config(const char *endpoint, const char *cert, const char *key,
                            int with_ca, const char *auth, const char *extra) {
    buf_t b = {0};
    buf_add(&b, "{\"environment\":\"sandbox\",\"endpoint\":");
    buf_add_json_string(&b, endpoint);
    buf_add(&b, ",\"tls\":{");
    int first = 1;
    if (cert != NULL) {
        buf_add(&b, "\"client_cert\":");
        buf_add_json_string(&b, cert);
        buf_add(&b, ",\"client_key\":");
        buf_add_json_string(&b, key);
        first = 0;
    }
    if (with_ca) {
        buf_add(&b, first ? "" : ",");
        buf_add(&b, "\"ca_cert\":");
        buf_add_json_string(&b, env("NZPIR_SANDBOX_CA_CERT"));
    }
    buf_add(&b, "},\"auth\":");
    if (auth != NULL) {
        buf_add(&b, auth);
    } else {
        buf_add(&b, "{\"type\":\"jwt\",\"alg\":\"RS256\",\"issuer\":\"C tests\",\"cert\":");
        buf_add_json_string(&b, env("NZPIR_SANDBOX_JWT_RS256_CERT"));
        buf_add(&b, ",\"key\":");
        buf_add_json_string(&b, env("NZPIR_SANDBOX_JWT_RS256_KEY"));
        buf_add(&b, "}");
    }
    buf_add(&b, extra);
    buf_add(&b, "}");
    return b.data;
}

#ifdef _POSIX_C_SOURCE /* popen: the programs that drive OAuth ask for POSIX */
/* The person's browser: GET the authorisation URL, which IR (here the
 * sandbox, whose fixture says who consents) answers with a redirect to the
 * redirect URI. Returns that URL (free it), or NULL. */
static inline char *browser(const char *url) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "curl -sS -o /dev/null -w '%%{redirect_url}' --cacert '%s' '%s'",
             env("NZPIR_SANDBOX_CA_CERT"), url);
    FILE *p = popen(cmd, "r");
    if (p == NULL) {
        return NULL;
    }
    char *location = calloc(1, 8192);
    size_t n = location ? fread(location, 1, 8191, p) : 0;
    int rc = pclose(p);
    if (location == NULL || rc != 0 || n == 0) {
        free(location);
        return NULL;
    }
    return location;
}

/*
 * One top-level counter of the sandbox's `/stats` (e.g. "connections",
 * "refresh_replays"), read over the admin API with curl; -1 when it cannot be
 * read. Reading opens one TLS connection, which "connections" includes.
 */
static inline long sandbox_stat(const char *name) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "curl -sS -f --cert '%s' --key '%s' --cacert '%s' '%s/stats'",
             env("NZPIR_SANDBOX_CLIENT_CERT"), env("NZPIR_SANDBOX_CLIENT_KEY"),
             env("NZPIR_SANDBOX_CA_CERT"), env("NZPIR_SANDBOX_ADMIN_URL"));
    FILE *p = popen(cmd, "r");
    if (p == NULL) {
        return -1;
    }
    static char out[65536];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    if (pclose(p) != 0) {
        return -1;
    }
    char key[128];
    snprintf(key, sizeof key, "\"%s\":", name);
    const char *at = strstr(out, key);
    return at == NULL ? -1 : strtol(at + strlen(key), NULL, 10);
}
#endif

/*
 * Calls the sandbox's admin API (`method` on `{admin_url}{path}`, with `body`
 * as JSON when not NULL) through curl with the sandbox's client certificate.
 * Returns 0 when curl succeeded and the answer was 2xx.
 */
static inline int sandbox_admin(const char *method, const char *path, const char *body) {
    char cmd[4096];
    int n = snprintf(cmd, sizeof cmd,
                     "curl -sS -f -o /dev/null --cert '%s' --key '%s' --cacert '%s' -X %s %s%s%s '%s%s'",
                     env("NZPIR_SANDBOX_CLIENT_CERT"), env("NZPIR_SANDBOX_CLIENT_KEY"),
                     env("NZPIR_SANDBOX_CA_CERT"), method, body ? "-H 'Content-Type: application/json' -d '" : "",
                     body ? body : "", body ? "'" : "", env("NZPIR_SANDBOX_ADMIN_URL"), path);
    if (n < 0 || (size_t)n >= sizeof cmd) {
        fprintf(stderr, "admin command too long\n");
        return -1;
    }
    int rc = system(cmd);
    if (rc != 0) {
        fprintf(stderr, "admin call failed: %s %s\n", method, path);
    }
    return rc;
}

#endif /* NZPIR_TEST_HARNESS_H */
