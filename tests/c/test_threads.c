/*
 * Eight pthreads share one client: lookups (rates and not found), errors,
 * status checks and IRD validation at the same time, released together by a
 * barrier. Every answer must be the one the sandbox's fixture gives.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>

#include "harness.h"

#define THREADS 8
#define ROUNDS 6

static nzpir_client *shared;
static pthread_barrier_t start;

struct result {
    size_t index;
    int ok;
    int failed;
};

static const struct {
    const char *ird;
    uint32_t hundredths; /* 0: not found */
} investors[] = {
    {"139276507", 2800},
    {"139276310", 1050},
    {"139439976", 1050},
    {"049091850", 0},
};

static void *worker(void *arg) {
    struct result *r = arg;
    pthread_barrier_wait(&start);
    for (int round = 0; round < ROUNDS; round++) {
        /* Each thread starts at a different investor. */
        size_t which = (r->index + (size_t)round) % 4;
        char req[128];
        snprintf(req, sizeof req, "{\"IRD\":\"%s\",\"PieIRD\":\"125000002\"}", investors[which].ird);
        nzpir_outcome *outcome = NULL;
        nzpir_error *err = NULL;
        nzpir_status s = nzpir_client_lookup(shared, req, &outcome, &err);
        uint32_t h = 0;
        int good = s == NZPIR_STATUS_OK &&
                   strcmp(nzpir_outcome_ird(outcome), investors[which].ird) == 0 &&
                   (investors[which].hundredths == 0
                        ? nzpir_outcome_is_not_found(outcome)
                        : nzpir_outcome_rate_hundredths(outcome, &h) &&
                              h == investors[which].hundredths);
        if (!good) {
            fprintf(stderr, "thread lookup: %s %s\n", nzpir_status_name(s), nzpir_error_message(err));
        }
        good ? r->ok++ : r->failed++;
        nzpir_outcome_free(outcome);
        nzpir_error_free(err);

        /* A locally invalid request fails on its own, whatever the others do. */
        err = NULL;
        s = nzpir_client_lookup(shared, "{\"IRD\":\"136410133\",\"PieIRD\":\"125000002\"}", &outcome,
                                &err);
        good = s == NZPIR_STATUS_INVALID_INPUT && nzpir_error_field_count(err) == 1 &&
               strcmp(nzpir_error_field_rule(err, 0), "ird_check_digit") == 0;
        good ? r->ok++ : r->failed++;
        nzpir_error_free(err);

        err = NULL;
        s = nzpir_client_status(shared, &err);
        s == NZPIR_STATUS_OK ? r->ok++ : r->failed++;
        nzpir_error_free(err);

        nzpir_ird_reason reason;
        (nzpir_ird_validate("49-091-850", &reason) && reason == NZPIR_IRD_REASON_VALID) ? r->ok++
                                                                                        : r->failed++;
    }
    return NULL;
}

int main(void) {
    nzpir_error *err = NULL;
    CHECK(sandbox_admin("DELETE", "/quotas", NULL) == 0);
    CHECK_STATUS(nzpir_client_new_from_file(env("NZPIR_SANDBOX_CONFIG"), &shared, &err), err,
                 NZPIR_STATUS_OK);
    if (shared == NULL) {
        return finish("test_threads");
    }
    static struct result results[THREADS];
    pthread_t threads[THREADS];
    CHECK(pthread_barrier_init(&start, NULL, THREADS) == 0);
    for (int i = 0; i < THREADS; i++) {
        results[i].index = (size_t)i;
        CHECK(pthread_create(&threads[i], NULL, worker, &results[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
    }
    pthread_barrier_destroy(&start);
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        CHECK(results[i].failed == 0);
        ok += results[i].ok;
    }
    CHECK(ok == THREADS * ROUNDS * 4);
    nzpir_client_free(shared);
    CHECK(sandbox_admin("DELETE", "/quotas", NULL) == 0);
    return finish("test_threads");
}
