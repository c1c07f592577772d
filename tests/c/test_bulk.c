/*
 * nzpir_client_lookup_many against the sandbox: requests pulled from a
 * callback, outcomes handed back in input order (rates, not found, IR's
 * refusals, local validation, JSON that cannot be read), cancellation from
 * either callback, bad options, and a journal that makes a second run repeat
 * no lookup.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>

#include "harness.h"

#define UNKNOWN 120

/* The requests of a run and what came back. */
struct run {
    char **requests;
    size_t count;
    size_t next;
    size_t results;
    size_t out_of_order;
    size_t cancel_after; /* 0: never */
    size_t stop_next_at; /* 0: never */
    pthread_t thread;
    int wrong_thread;
    nzpir_status *statuses;
    uint32_t *hundredths; /* 0: not found, UINT32_MAX: an error */
    char (*ir_codes)[8];
};

static int32_t next_request(void *ctx, const char **request_json_out) {
    struct run *r = ctx;
    if (!pthread_equal(pthread_self(), r->thread)) r->wrong_thread++;
    if (r->stop_next_at != 0 && r->next == r->stop_next_at) return -1;
    if (r->next == r->count) return NZPIR_BULK_END;
    *request_json_out = r->requests[r->next++];
    return NZPIR_BULK_NEXT;
}

static int32_t on_result(void *ctx, size_t index, nzpir_status status, const nzpir_outcome *outcome,
                         const nzpir_error *error) {
    struct run *r = ctx;
    if (!pthread_equal(pthread_self(), r->thread)) r->wrong_thread++;
    if (index != r->results) r->out_of_order++;
    if (index < r->count) {
        r->statuses[index] = status;
        r->hundredths[index] = UINT32_MAX;
        r->ir_codes[index][0] = '\0';
        if (status == NZPIR_STATUS_OK) {
            uint32_t h = 0;
            r->hundredths[index] = nzpir_outcome_rate_hundredths(outcome, &h) ? h : 0;
            CHECK(error == NULL);
        } else {
            CHECK(outcome == NULL && error != NULL);
            CHECK(nzpir_error_status(error) == status);
            const char *code = nzpir_error_ir_code(error);
            if (code != NULL) snprintf(r->ir_codes[index], sizeof r->ir_codes[index], "%s", code);
            /* Never an IRD number in a message. */
            CHECK(!contains(nzpir_error_message(error), "136410133"));
        }
    }
    r->results++;
    return r->cancel_after != 0 && r->results == r->cancel_after ? 1 : 0;
}

static void run_init(struct run *r, size_t count) {
    memset(r, 0, sizeof *r);
    r->requests = calloc(count, sizeof *r->requests);
    r->statuses = calloc(count, sizeof *r->statuses);
    r->hundredths = calloc(count, sizeof *r->hundredths);
    r->ir_codes = calloc(count, sizeof *r->ir_codes);
    r->count = count;
    r->thread = pthread_self();
}

static void run_reset(struct run *r) {
    r->next = r->results = r->out_of_order = 0;
    r->cancel_after = r->stop_next_at = 0;
    r->wrong_thread = 0;
}

static void run_free(struct run *r) {
    for (size_t i = 0; i < r->count; i++) free(r->requests[i]);
    free(r->requests);
    free(r->statuses);
    free(r->hundredths);
    free(r->ir_codes);
}

static char *request(const char *ird) {
    char *s = malloc(96);
    snprintf(s, 96, "{\"IRD\":\"%s\",\"PieIRD\":\"125000002\"}", ird);
    return s;
}

/* `n` valid IRD numbers unknown to the fixture (IR answers EV1043), from `start`. */
static size_t unknown_irds(char (*out)[10], size_t n, unsigned start) {
    size_t found = 0;
    for (unsigned v = start; found < n && v < 100000000u; v++) {
        snprintf(out[found], 10, "%08u", v);
        if (nzpir_ird_validate(out[found], NULL)) found++;
    }
    return found;
}

static void a_register_in_input_order(nzpir_client *client) {
    static char unknown[UNKNOWN][10];
    unknown_irds(unknown, UNKNOWN, 21000000);
    struct run r;
    run_init(&r, UNKNOWN + 6);
    size_t i = 0;
    r.requests[i++] = request("139276507"); /* 28 */
    r.requests[i++] = request("136410133"); /* check digit: local */
    r.requests[i++] = request("049091850"); /* not found */
    r.requests[i++] = strdup("{\"IRD\":");  /* not JSON */
    r.requests[i++] = request("139276310"); /* 10.5 */
    r.requests[i++] = request("139276507"); /* the same as the first: no second call */
    for (size_t k = 0; k < UNKNOWN; k++) r.requests[i++] = request(unknown[k]);

    nzpir_error *err = NULL;
    nzpir_status s = nzpir_client_lookup_many(client, "{\"concurrency\":8}", next_request, on_result,
                                              &r, &err);
    CHECK_STATUS(s, err, NZPIR_STATUS_OK);
    CHECK(r.results == r.count);
    CHECK(r.out_of_order == 0);
    CHECK(r.wrong_thread == 0);
    CHECK(r.statuses[0] == NZPIR_STATUS_OK && r.hundredths[0] == 2800);
    CHECK(r.statuses[1] == NZPIR_STATUS_INVALID_INPUT);
    CHECK(r.statuses[2] == NZPIR_STATUS_OK && r.hundredths[2] == 0);
    CHECK(r.statuses[3] == NZPIR_STATUS_INVALID_INPUT);
    CHECK(r.statuses[4] == NZPIR_STATUS_OK && r.hundredths[4] == 1050);
    CHECK(r.statuses[5] == NZPIR_STATUS_OK && r.hundredths[5] == 2800);
    size_t refused = 0;
    for (size_t k = 6; k < r.count; k++) {
        refused += r.statuses[k] == NZPIR_STATUS_AUTHORISATION && strcmp(r.ir_codes[k], "EV1043") == 0;
    }
    CHECK(refused == UNKNOWN);

    /* Cancelled by the result callback: nothing after it. */
    run_reset(&r);
    r.cancel_after = 10;
    s = nzpir_client_lookup_many(client, NULL, next_request, on_result, &r, &err);
    CHECK_STATUS(s, err, NZPIR_STATUS_CANCELLED);
    CHECK(r.results == 10);
    CHECK(r.out_of_order == 0);

    /* Cancelled by the request callback. */
    run_reset(&r);
    r.stop_next_at = 20;
    s = nzpir_client_lookup_many(client, "{\"max_rps\":1000}", next_request, on_result, &r, &err);
    CHECK_STATUS(s, err, NZPIR_STATUS_CANCELLED);
    CHECK(r.results <= 20);
    run_free(&r);
}

static void bad_arguments(nzpir_client *client) {
    struct run r;
    run_init(&r, 1);
    r.requests[0] = request("139276507");
    nzpir_error *err = NULL;
    const char *bad[] = {
        "{\"max_rps\":0}",       "{\"max_rps\":-1}",      "{\"max_rps\":1e300}",
        "{\"concurrency\":0}",   "{\"concurrency\":999}", "{\"concurrency\":\"8\"}",
        "{\"bogus\":1}",         "[1,2]",                 "not json",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        run_reset(&r);
        nzpir_status s = nzpir_client_lookup_many(client, bad[i], next_request, on_result, &r, &err);
        CHECK_STATUS(s, err, NZPIR_STATUS_CONFIG);
        CHECK(r.results == 0 && r.next == 0);
    }
    CHECK(nzpir_client_lookup_many(NULL, NULL, next_request, on_result, &r, NULL) ==
          NZPIR_STATUS_NULL_ARGUMENT);
    nzpir_status s = nzpir_client_lookup_many(client, NULL, NULL, on_result, &r, &err);
    CHECK_STATUS(s, err, NZPIR_STATUS_NULL_ARGUMENT);
    s = nzpir_client_lookup_many(client, NULL, next_request, NULL, &r, &err);
    CHECK_STATUS(s, err, NZPIR_STATUS_NULL_ARGUMENT);
    run_free(&r);
}

static void a_journal_repeats_nothing(nzpir_client *client) {
    char key[1024], journal[1024], options[1200];
    snprintf(key, sizeof key, "%s/bulk-keys/journal.key", env("NZPIR_TEST_TMPDIR"));
    snprintf(journal, sizeof journal, "%s/bulk.journal", env("NZPIR_TEST_TMPDIR"));
    setenv("NZPIR_JOURNAL_KEY", key, 1);
    remove(journal);
    snprintf(options, sizeof options, "{\"journal\":\"%s\",\"concurrency\":4}", journal);
    static char unknown[20][10];
    unknown_irds(unknown, 20, 22000000);
    struct run r;
    run_init(&r, 21);
    for (size_t k = 0; k < 20; k++) r.requests[k] = request(unknown[k]);
    r.requests[20] = request("139276310");
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_client_lookup_many(client, options, next_request, on_result, &r, &err);
    CHECK_STATUS(s, err, NZPIR_STATUS_OK);
    CHECK(r.results == 21 && r.hundredths[20] == 1050);

    /* Every PIR request now fails at the gateway: a second run that made any
     * call would show a transport error. */
    CHECK(sandbox_admin("POST", "/faults", "{\"kind\":\"drop_before_read\"}") == 0);
    run_reset(&r);
    s = nzpir_client_lookup_many(client, options, next_request, on_result, &r, &err);
    CHECK_STATUS(s, err, NZPIR_STATUS_OK);
    CHECK(r.results == 21);
    CHECK(r.statuses[0] == NZPIR_STATUS_AUTHORISATION && strcmp(r.ir_codes[0], "EV1043") == 0);
    CHECK(r.statuses[20] == NZPIR_STATUS_OK && r.hundredths[20] == 1050);
    CHECK(sandbox_admin("DELETE", "/faults", NULL) == 0);
    remove(journal);
    run_free(&r);
}

int main(void) {
    nzpir_client *client = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_client_new_from_file(env("NZPIR_SANDBOX_CONFIG"), &client, &err);
    CHECK_STATUS(s, err, NZPIR_STATUS_OK);
    if (client == NULL) return finish("test_bulk");
    CHECK(sandbox_admin("DELETE", "/quotas", NULL) == 0);
    a_register_in_input_order(client);
    bad_arguments(client);
    a_journal_repeats_nothing(client);
    CHECK_STR(nzpir_status_name(NZPIR_STATUS_CANCELLED), "cancelled");
    nzpir_client_free(client);
    return finish("test_bulk");
}
