/*
 * The C measurements of bench/run.sh, over libnzpir (release).
 *
 *   bench ird CORPUS SECONDS       nzpir_ird_validate_many over the corpus
 *   bench lookup CONFIG SECONDS    lookups on one client (a kept-alive connection)
 *   bench fresh CONFIG SECONDS     a new client per lookup (keys loaded, a JWT minted
 *                                  and a full handshake each time)
 *   bench rss CONFIG COUNT         COUNT lookups on one client, then peak RSS
 *   bench bulk CONFIG REGISTER N   every row of a register (IRD,PieIRD first) once through
 *                                  nzpir_client_lookup_many at concurrency N
 *
 * Each measurement warms up, runs for SECONDS of wall time and prints one
 * JSON line: {"peer", "items", "secs", "per_sec", "ns_per"}.
 */
#define _POSIX_C_SOURCE 200809L
#include <nzpir.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *IRD = "139276507";
static const char *PIE_IRD = "125000002";

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *peer, unsigned long long items, double secs) {
    printf("{\"peer\":\"%s\",\"items\":%llu,\"secs\":%.6f,\"per_sec\":%.3f,\"ns_per\":%.3f}\n",
           peer, items, secs, (double)items / secs, secs * 1e9 / (double)items);
}

static int fail(const char *what, nzpir_error *err) {
    fprintf(stderr, "bench: %s: %s\n", what, err ? nzpir_error_message(err) : "failed");
    nzpir_error_free(err);
    return 1;
}

/* One lookup as a C caller writes it: the request JSON, the call, the rate. */
static int lookup_once(const nzpir_client *client) {
    char request[96];
    snprintf(request, sizeof request, "{\"IRD\":\"%s\",\"PieIRD\":\"%s\"}", IRD, PIE_IRD);
    nzpir_outcome *outcome = NULL;
    nzpir_error *err = NULL;
    if (nzpir_client_lookup(client, request, &outcome, &err) != NZPIR_STATUS_OK) {
        return fail("lookup", err);
    }
    uint32_t hundredths = 0;
    bool ok = nzpir_outcome_rate_hundredths(outcome, &hundredths) && hundredths > 0;
    nzpir_outcome_free(outcome);
    return ok ? 0 : fail("lookup: no rate", NULL);
}

static int bench_ird(const char *path, double secs) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    size_t cap = 1 << 17, count = 0;
    char **items = malloc(cap * sizeof *items);
    char *line = NULL;
    size_t len = 0;
    ssize_t n;
    while ((n = getline(&line, &len, f)) > 0) {
        if (line[n - 1] == '\n') line[n - 1] = '\0';
        if (count == cap) items = realloc(items, (cap *= 2) * sizeof *items);
        items[count++] = strdup(line);
    }
    free(line);
    fclose(f);
    bool *valid = malloc(count * sizeof *valid);
    size_t valid_count = 0;
    nzpir_error *err = NULL;
    if (nzpir_ird_validate_many((const char *const *)items, count, valid, &valid_count, &err) !=
        NZPIR_STATUS_OK) {
        return fail("nzpir_ird_validate_many", err);
    }
    size_t first_valid = valid_count;
    double warm = now() + (secs / 10 < 0.5 ? secs / 10 : 0.5);
    while (now() < warm) {
        nzpir_ird_validate_many((const char *const *)items, count, valid, &valid_count, NULL);
    }
    unsigned long long done = 0;
    double start = now(), elapsed;
    do {
        nzpir_ird_validate_many((const char *const *)items, count, valid, &valid_count, NULL);
        done += count;
        elapsed = now() - start;
    } while (elapsed < secs);
    printf("{\"peer\":\"c\",\"items\":%llu,\"secs\":%.6f,\"per_sec\":%.3f,\"ns_per\":%.3f,"
           "\"valid\":%zu}\n",
           done, elapsed, (double)done / elapsed, elapsed * 1e9 / (double)done, first_valid);
    for (size_t i = 0; i < count; i++) free(items[i]);
    free(items);
    free(valid);
    return 0;
}

static int bench_lookup(const char *config, double secs, bool fresh) {
    nzpir_client *client = NULL;
    nzpir_error *err = NULL;
    if (!fresh && nzpir_client_new_from_file(config, &client, &err) != NZPIR_STATUS_OK) {
        return fail("client", err);
    }
    unsigned long long done = 0;
    double warm = now() + (secs / 10 < 0.5 ? secs / 10 : 0.5), start = 0, elapsed = 0;
    bool warming = true;
    for (;;) {
        if (fresh) {
            if (nzpir_client_new_from_file(config, &client, &err) != NZPIR_STATUS_OK) {
                return fail("client", err);
            }
        }
        if (lookup_once(client)) return 1;
        if (fresh) {
            nzpir_client_free(client);
            client = NULL;
        }
        if (warming) {
            if (now() >= warm) {
                warming = false;
                start = now();
            }
            continue;
        }
        done++;
        elapsed = now() - start;
        if (elapsed >= secs) break;
    }
    nzpir_client_free(client);
    report(fresh ? "c-fresh" : "c", done, elapsed);
    return 0;
}

/* A "Vm...:" line of /proc/self/status, in KiB. */
static long status_kib(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, n) == 0) kib = strtol(line + n, NULL, 10);
    }
    if (f) fclose(f);
    return kib;
}

static long vm_rss_kib(void) { return status_kib("VmRSS:"); }

/* The peak RSS of this program. Not getrusage's ru_maxrss: Linux carries it
 * across execve, so a program started by a larger one (the Python driver)
 * reports its parent's peak. VmHWM belongs to this program's memory alone. */
static long peak_rss_kib(void) { return status_kib("VmHWM:"); }

static int bench_rss(const char *config, long count) {
    long before = vm_rss_kib();
    nzpir_client *client = NULL;
    nzpir_error *err = NULL;
    if (nzpir_client_new_from_file(config, &client, &err) != NZPIR_STATUS_OK) {
        return fail("client", err);
    }
    long with_client = vm_rss_kib();
    for (long i = 0; i < count; i++) {
        if (lookup_once(client)) return 1;
    }
    long after = vm_rss_kib();
    long peak = peak_rss_kib();
    nzpir_client_free(client);
    printf("{\"peer\":\"c-rss\",\"lookups\":%ld,\"rss_start_kib\":%ld,\"rss_client_kib\":%ld,"
           "\"rss_after_kib\":%ld,\"peak_rss_kib\":%ld}\n",
           count, before, with_client, after, peak);
    return 0;
}

/* The register's rows as request JSON, handed out one at a time. */
struct bulk {
    char **requests;
    size_t count, next, rated, results;
};

static int32_t bulk_next(void *ctx, const char **request_json_out) {
    struct bulk *b = ctx;
    if (b->next == b->count) return NZPIR_BULK_END;
    *request_json_out = b->requests[b->next++];
    return NZPIR_BULK_NEXT;
}

static int32_t bulk_result(void *ctx, size_t index, nzpir_status status, const nzpir_outcome *outcome,
                           const nzpir_error *error) {
    (void)index;
    (void)error;
    struct bulk *b = ctx;
    uint32_t h = 0;
    if (status == NZPIR_STATUS_OK && nzpir_outcome_rate_hundredths(outcome, &h)) b->rated++;
    b->results++;
    return 0;
}

static int bench_bulk(const char *config, const char *register_path, int concurrency) {
    FILE *f = fopen(register_path, "r");
    if (!f) return fail("register", NULL);
    struct bulk b = {0};
    size_t cap = 1024;
    b.requests = malloc(cap * sizeof *b.requests);
    char line[512];
    bool header = true;
    while (fgets(line, sizeof line, f)) {
        if (header) {
            header = false;
            continue;
        }
        char *ird = strtok(line, ",\r\n");
        char *pie = strtok(NULL, ",\r\n");
        if (!ird || !pie) continue;
        if (b.count == cap) b.requests = realloc(b.requests, (cap *= 2) * sizeof *b.requests);
        char *req = malloc(96);
        snprintf(req, 96, "{\"IRD\":\"%s\",\"PieIRD\":\"%s\"}", ird, pie);
        b.requests[b.count++] = req;
    }
    fclose(f);
    nzpir_client *client = NULL;
    nzpir_error *err = NULL;
    if (nzpir_client_new_from_file(config, &client, &err) != NZPIR_STATUS_OK) return fail("client", err);
    if (lookup_once(client) != 0) return 1; /* connect and mint the JWT first */
    char options[64];
    snprintf(options, sizeof options, "{\"concurrency\":%d}", concurrency);
    double start = now();
    nzpir_status s = nzpir_client_lookup_many(client, options, bulk_next, bulk_result, &b, &err);
    double secs = now() - start;
    nzpir_client_free(client);
    for (size_t i = 0; i < b.count; i++) free(b.requests[i]);
    free(b.requests);
    if (s != NZPIR_STATUS_OK) return fail("lookup_many", err);
    printf("{\"peer\":\"c-bulk\",\"items\":%zu,\"secs\":%.6f,\"per_sec\":%.3f,\"rated\":%zu}\n",
           b.results, secs, (double)b.results / secs, b.rated);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "ird") == 0) return bench_ird(argv[2], atof(argv[3]));
    if (argc == 4 && strcmp(argv[1], "lookup") == 0) return bench_lookup(argv[2], atof(argv[3]), false);
    if (argc == 4 && strcmp(argv[1], "fresh") == 0) return bench_lookup(argv[2], atof(argv[3]), true);
    if (argc == 4 && strcmp(argv[1], "rss") == 0) return bench_rss(argv[2], atol(argv[3]));
    if (argc == 5 && strcmp(argv[1], "bulk") == 0) return bench_bulk(argv[2], argv[3], atoi(argv[4]));
    fprintf(stderr, "usage: bench ird CORPUS SECONDS | lookup CONFIG SECONDS | fresh CONFIG SECONDS | rss CONFIG COUNT | bulk CONFIG REGISTER N\n");
    return 2;
}
