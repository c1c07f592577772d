/*
 * Lookups against a running sandbox (profile strict) over mutual TLS: rates,
 * not found, and every class of error from its real cause: rejected (PIR101),
 * authentication (unregistered certificate, no token, unknown token),
 * authorisation (EV1042, EV1043), rate limited (IR003), server (PIR150, 503,
 * a malformed answer), transport (dropped connection, closed port), timeout
 * (a delayed answer), TLS (an untrusted server), plus the status check and
 * configuration from the sandbox's own nzpir.toml.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <time.h>

#include "harness.h"

#define PIE_S "125000002" /* kowhai-scheme: the ready configuration's party's scheme */
#define PIE_T "130000002" /* tuatara-funds: unrelated to that party */

static nzpir_client *client_from_json(const char *json) {
    nzpir_client *client = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_client_new_from_json(json, &client, &err);
    if (s != NZPIR_STATUS_OK) {
        fprintf(stderr, "client: %s\n", nzpir_error_message(err));
    }
    CHECK_STATUS(s, err, NZPIR_STATUS_OK);
    return client;
}

/* A client like the sandbox's, with `extra` settings and no retries. */
static nzpir_client *sandbox_client(const char *extra) {
    char *json = sandbox_config(env("NZPIR_SANDBOX_URL"), env("NZPIR_SANDBOX_CLIENT_CERT"),
                                env("NZPIR_SANDBOX_CLIENT_KEY"), 1, NULL, extra);
    nzpir_client *client = client_from_json(json);
    free(json);
    return client;
}

static void request_for(char *out, size_t n, const char *ird, const char *pie) {
    if (pie != NULL) {
        snprintf(out, n, "{\"IRD\":\"%s\",\"PieIRD\":\"%s\"}", ird, pie);
    } else {
        snprintf(out, n, "{\"IRD\":\"%s\"}", ird);
    }
}

/* Looks up and expects a rate (hundredths and text). */
static void expect_rate(nzpir_client *client, const char *ird, const char *pie,
                        uint32_t hundredths, const char *text) {
    char req[256];
    request_for(req, sizeof req, ird, pie);
    nzpir_outcome *outcome = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_client_lookup(client, req, &outcome, &err);
    CHECK_STATUS(s, err, NZPIR_STATUS_OK);
    if (s != NZPIR_STATUS_OK) {
        return;
    }
    uint32_t h = 0;
    CHECK(!nzpir_outcome_is_not_found(outcome));
    CHECK(nzpir_outcome_rate_hundredths(outcome, &h));
    CHECK(h == hundredths);
    CHECK_STR(nzpir_outcome_rate(outcome), text);
    CHECK(strlen(nzpir_outcome_ird(outcome)) == 9);
    if (pie != NULL) {
        CHECK_STR(nzpir_outcome_pie_ird(outcome), pie);
    } else {
        CHECK(nzpir_outcome_pie_ird(outcome) == NULL);
    }
    char json[256];
    if (pie != NULL) {
        snprintf(json, sizeof json, "{\"IRD\":\"%s\",\"PieIRD\":\"%s\",\"SuggestedPirRate\":%s}",
                 nzpir_outcome_ird(outcome), pie, text);
    } else {
        snprintf(json, sizeof json, "{\"IRD\":\"%s\",\"SuggestedPirRate\":%s}",
                 nzpir_outcome_ird(outcome), text);
    }
    CHECK_STR(nzpir_outcome_json(outcome), json);
    nzpir_outcome_free(outcome);
}

/* Looks up and expects a failure with this status, IR code (or NULL) and HTTP
 * status (or 0); the message must not repeat the IRD number. */
static void expect_error(nzpir_client *client, const char *ird, const char *pie,
                         nzpir_status status, const char *ir_code, uint16_t http,
                         int retryable) {
    char req[256];
    request_for(req, sizeof req, ird, pie);
    nzpir_outcome *outcome = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_client_lookup(client, req, &outcome, &err);
    CHECK(outcome == NULL);
    if (ir_code != NULL) {
        CHECK_STR(nzpir_error_ir_code(err), ir_code);
        CHECK(contains(nzpir_error_message(err), ir_code));
    } else {
        CHECK(nzpir_error_ir_code(err) == NULL);
    }
    if (nzpir_error_http_status(err) != http) {
        fprintf(stderr, "HTTP %u, expected %u\n", nzpir_error_http_status(err), http);
    }
    CHECK(nzpir_error_http_status(err) == http);
    CHECK(nzpir_error_is_retryable(err) == (retryable != 0));
    CHECK_STR(nzpir_error_kind(err), nzpir_status_name(status));
    CHECK(!contains(nzpir_error_message(err), ird));
    CHECK(nzpir_error_field_count(err) == 0);
    CHECK_STATUS(s, err, status);
}

static void answers(nzpir_client *client) {
    expect_rate(client, "139276507", PIE_S, 2800, "28");
    expect_rate(client, "139276310", PIE_S, 1050, "10.5");

    /* Not found; the IRD number as people type it is normalised. */
    nzpir_outcome *outcome = NULL;
    nzpir_error *err = NULL;
    CHECK_STATUS(nzpir_client_lookup(client, "{\"IRD\":\"49-091-850\",\"PieIRD\":\"" PIE_S "\"}",
                                     &outcome, &err),
                 err, NZPIR_STATUS_OK);
    CHECK(nzpir_outcome_is_not_found(outcome));
    uint32_t h = 12345;
    CHECK(!nzpir_outcome_rate_hundredths(outcome, &h));
    CHECK(h == 12345);
    CHECK(nzpir_outcome_rate(outcome) == NULL);
    CHECK_STR(nzpir_outcome_ird(outcome), "049091850");
    CHECK_STR(nzpir_outcome_pie_ird(outcome), PIE_S);
    CHECK_STR(nzpir_outcome_json(outcome),
              "{\"IRD\":\"049091850\",\"PieIRD\":\"" PIE_S "\",\"PirRateNotFound\":true}");
    nzpir_outcome_free(outcome);

    /* IR's refusals. */
    expect_error(client, "139276507", NULL, NZPIR_STATUS_REJECTED, "PIR101", 400, 0);
    expect_error(client, "139276272", PIE_S, NZPIR_STATUS_AUTHORISATION, "EV1043", 401, 0);
    expect_error(client, "139276507", PIE_T, NZPIR_STATUS_AUTHORISATION, "EV1042", 401, 0);

    CHECK_STATUS(nzpir_client_status(client, &err), err, NZPIR_STATUS_OK);

    /* The client certificate's expiry, and a reload of the same files. */
    int64_t not_after = 0;
    CHECK_STATUS(nzpir_client_identity_not_after(client, &not_after, &err), err, NZPIR_STATUS_OK);
    CHECK(not_after > (int64_t)time(NULL));
    bool changed = true;
    CHECK_STATUS(nzpir_client_reload_identity(client, &changed, &err), err, NZPIR_STATUS_OK);
    CHECK(!changed);
    CHECK_STATUS(nzpir_client_reload_identity(client, NULL, &err), err, NZPIR_STATUS_OK);
    CHECK_STATUS(nzpir_client_identity_not_after(client, NULL, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
}

static void doctor(void) {
    char *json = sandbox_config(env("NZPIR_SANDBOX_URL"), env("NZPIR_SANDBOX_CLIENT_CERT"),
                                env("NZPIR_SANDBOX_CLIENT_KEY"), 1, NULL, "");
    char *report = NULL;
    nzpir_error *err = NULL;
    CHECK_STATUS(nzpir_doctor_json(json, "139276507", PIE_S, &report, &err), err, NZPIR_STATUS_OK);
    CHECK(report != NULL && contains(report, "\"passed\":true"));
    CHECK(report != NULL && contains(report, "gateway.lookup"));
    CHECK(report != NULL && !contains(report, "\"fail\""));
    CHECK(report != NULL && !contains(report, "139276507"));
    nzpir_string_free(report);
    report = NULL;
    CHECK(sandbox_admin("DELETE", "/quotas", NULL) == 0);
    /* A mismatched key is in the report as a failure of kind config. */
    free(json);
    json = sandbox_config(env("NZPIR_SANDBOX_URL"), env("NZPIR_SANDBOX_CLIENT_CERT"),
                          env("NZPIR_SANDBOX_UNREGISTERED_CLIENT_KEY"), 1, NULL, "");
    CHECK_STATUS(nzpir_doctor_json(json, NULL, NULL, &report, &err), err, NZPIR_STATUS_OK);
    CHECK(report != NULL && contains(report, "\"passed\":false"));
    CHECK(report != NULL && contains(report, "does not match the certificate"));
    nzpir_string_free(report);
    free(json);
    CHECK_STATUS(nzpir_doctor_json("{", NULL, NULL, &report, &err), err, NZPIR_STATUS_CONFIG);
}

static void authentication(void) {
    const char *url = env("NZPIR_SANDBOX_URL");
    /* A client certificate from the sandbox CA that IR has not registered. */
    char *json = sandbox_config(url, env("NZPIR_SANDBOX_UNREGISTERED_CLIENT_CERT"),
                                env("NZPIR_SANDBOX_UNREGISTERED_CLIENT_KEY"), 1, NULL,
                                ",\"max_retries\":0");
    nzpir_client *client = client_from_json(json);
    free(json);
    expect_error(client, "139276507", PIE_S, NZPIR_STATUS_AUTHENTICATION, "EV1023", 401, 0);
    nzpir_client_free(client);

    /* No token at all. */
    json = sandbox_config(url, env("NZPIR_SANDBOX_CLIENT_CERT"), env("NZPIR_SANDBOX_CLIENT_KEY"), 1,
                          "{\"type\":\"none\"}", "");
    client = client_from_json(json);
    free(json);
    expect_error(client, "139276507", PIE_S, NZPIR_STATUS_AUTHENTICATION, "EV1025", 401, 0);
    nzpir_client_free(client);

    /* A bearer token IR never issued; the token stays out of the message. */
    json = sandbox_config(url, env("NZPIR_SANDBOX_CLIENT_CERT"), env("NZPIR_SANDBOX_CLIENT_KEY"), 1,
                          "{\"type\":\"bearer\",\"token\":\"not-a-real-token-3141\"}", "");
    client = client_from_json(json);
    free(json);
    nzpir_outcome *outcome = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_client_lookup(client, "{\"IRD\":\"139276507\",\"PieIRD\":\"" PIE_S "\"}",
                                         &outcome, &err);
    CHECK_STR(nzpir_error_ir_code(err), "EV1024");
    CHECK(!contains(nzpir_error_message(err), "3141"));
    CHECK_STATUS(s, err, NZPIR_STATUS_AUTHENTICATION);
    nzpir_client_free(client);

    /* The ECDSA JWT credential of the scheme's administration manager works too. */
    json = sandbox_config(url, env("NZPIR_SANDBOX_CLIENT_CERT"), env("NZPIR_SANDBOX_CLIENT_KEY"), 1,
                          NULL, "");
    buf_t b = {0};
    buf_add(&b, "{\"type\":\"jwt\",\"issuer\":\"C tests\",\"alg\":");
    buf_add_json_string(&b, env("NZPIR_SANDBOX_JWT_EC_ALG"));
    buf_add(&b, ",\"cert\":");
    buf_add_json_string(&b, env("NZPIR_SANDBOX_JWT_EC_CERT"));
    buf_add(&b, ",\"key\":");
    buf_add_json_string(&b, env("NZPIR_SANDBOX_JWT_EC_KEY"));
    buf_add(&b, "}");
    free(json);
    json = sandbox_config(url, env("NZPIR_SANDBOX_CLIENT_CERT"), env("NZPIR_SANDBOX_CLIENT_KEY"), 1,
                          b.data, "");
    buf_free(&b);
    client = client_from_json(json);
    free(json);
    expect_rate(client, "139276310", PIE_S, 1050, "10.5");
    nzpir_client_free(client);
}

static void rate_limited(nzpir_client *client) {
    int limit = atoi(env("NZPIR_SANDBOX_IR003_LIMIT"));
    CHECK(limit > 0);
    CHECK(sandbox_admin("DELETE", "/quotas", NULL) == 0);
    for (int i = 0; i < limit; i++) {
        expect_rate(client, "139439976", PIE_S, 1050, "10.5");
    }
    expect_error(client, "139439976", PIE_S, NZPIR_STATUS_RATE_LIMITED, "IR003", 401, 0);
    /* Only that investor is limited. */
    expect_rate(client, "139276310", PIE_S, 1050, "10.5");
    CHECK(sandbox_admin("DELETE", "/quotas", NULL) == 0);
}

/* Runs one lookup with a fault switched on for the next request. */
static void with_fault(nzpir_client *client, const char *fault, nzpir_status status,
                       const char *ir_code, uint16_t http, int retryable) {
    CHECK(sandbox_admin("DELETE", "/faults", NULL) == 0);
    CHECK(sandbox_admin("POST", "/faults", fault) == 0);
    expect_error(client, "139276507", PIE_S, status, ir_code, http, retryable);
    CHECK(sandbox_admin("DELETE", "/faults", NULL) == 0);
}

static void faults(nzpir_client *ready) {
    nzpir_client *once = sandbox_client(",\"max_retries\":0");
    with_fault(once, "{\"kind\":\"pir150\",\"times\":1}", NZPIR_STATUS_SERVER, "PIR150", 500, 1);
    with_fault(once, "{\"kind\":\"status\",\"status\":503,\"times\":1}", NZPIR_STATUS_SERVER, NULL,
               503, 1);
    with_fault(once, "{\"kind\":\"malformed_body\",\"times\":1}", NZPIR_STATUS_SERVER, NULL, 200, 0);
    with_fault(once, "{\"kind\":\"drop_after_read\",\"times\":1}", NZPIR_STATUS_TRANSPORT, NULL, 0, 1);
    nzpir_client_free(once);

    /* An answer that takes longer than the client waits (a wide margin, so
     * that a slow machine, or valgrind, still connects in time). */
    nzpir_client *impatient = sandbox_client(",\"max_retries\":0,\"timeout_secs\":2");
    with_fault(impatient, "{\"kind\":\"delay\",\"ms\":6000,\"times\":1}", NZPIR_STATUS_TIMEOUT,
               NULL, 0, 1);
    nzpir_client_free(impatient);

    /* The ready configuration retries (two retries) only what IR cannot have
     * counted: a load balancer's 503 is absorbed; a PIR150 (IR processed the
     * lookup) is reported after one attempt. */
    CHECK(sandbox_admin("POST", "/faults", "{\"kind\":\"status\",\"status\":503,\"times\":1}") == 0);
    expect_rate(ready, "139276507", PIE_S, 2800, "28");
    CHECK(sandbox_admin("POST", "/faults", "{\"kind\":\"pir150\",\"times\":1}") == 0);
    expect_error(ready, "139276507", PIE_S, NZPIR_STATUS_SERVER, "PIR150", 500, 1);
    CHECK(sandbox_admin("DELETE", "/faults", NULL) == 0);
}

/* Every error IR listed, the attempts, and a filing period given as a year. */
static void contract(nzpir_client *ready) {
    CHECK(sandbox_admin("DELETE", "/quotas", NULL) == 0);
    nzpir_client *unchecked = sandbox_client(",\"max_retries\":0,\"validate_locally\":false");
    nzpir_outcome *outcome = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_client_lookup(
        unchecked,
        "{\"IRD\":\"139276507\",\"PieIRD\":\"" PIE_S "\",\"Dob\":\"1990-02-30\","
        "\"Address\":{\"Street\":\"1 A St\",\"City\":\"Auckland\",\"Country\":\"ZZ\"}}",
        &outcome, &err);
    CHECK(outcome == NULL);
    CHECK(nzpir_error_ir_error_count(err) == 2);
    CHECK_STR(nzpir_error_ir_code(err), "EV1100");
    CHECK_STR(nzpir_error_ir_error_code(err, 0), "EV1100");
    CHECK_STR(nzpir_error_ir_error_field(err, 0), "Dob");
    CHECK_STR(nzpir_error_ir_error_type(err, 0), "validation");
    CHECK_STR(nzpir_error_ir_error_code(err, 1), "EV1100");
    CHECK_STR(nzpir_error_ir_error_field(err, 1), "Country");
    CHECK(contains(nzpir_error_ir_error_message(err, 1), "Field: Country"));
    CHECK(nzpir_error_ir_error_code(err, 2) == NULL);
    CHECK(nzpir_error_attempts(err) == 1);
    CHECK(!nzpir_error_is_retryable(err));
    CHECK_STATUS(s, err, NZPIR_STATUS_REJECTED);
    nzpir_client_free(unchecked);

    /* The ready configuration tries three times (two retries) a 503 that
     * stays; the error says so. */
    CHECK(sandbox_admin("DELETE", "/faults", NULL) == 0);
    CHECK(sandbox_admin("POST", "/faults", "{\"kind\":\"status\",\"status\":503,\"times\":3}") == 0);
    s = nzpir_client_lookup(ready, "{\"IRD\":\"139276507\",\"PieIRD\":\"" PIE_S "\"}", &outcome,
                            &err);
    CHECK(nzpir_error_attempts(err) == 3);
    CHECK(nzpir_error_is_retryable(err));
    CHECK(nzpir_error_ir_error_count(err) == 0);
    CHECK(nzpir_error_http_status(err) == 503);
    CHECK_STATUS(s, err, NZPIR_STATUS_SERVER);
    CHECK(sandbox_admin("DELETE", "/faults", NULL) == 0);

    /* Local validation sent nothing. */
    s = nzpir_client_lookup(ready, "{\"IRD\":\"136410133\"}", &outcome, &err);
    CHECK(nzpir_error_attempts(err) == 0);
    CHECK_STATUS(s, err, NZPIR_STATUS_INVALID_INPUT);

    /* A filing period as the year it ends: a number or its text. */
    const char *years[] = {"2025", "\"2025\""};
    for (size_t i = 0; i < 2; i++) {
        char json[160];
        snprintf(json, sizeof json,
                 "{\"IRD\":\"139276507\",\"PieIRD\":\"" PIE_S "\",\"FilingPeriod\":%s}", years[i]);
        s = nzpir_client_lookup(ready, json, &outcome, &err);
        CHECK_STATUS(s, err, NZPIR_STATUS_OK);
        CHECK_STR(nzpir_outcome_rate(outcome), "28");
        nzpir_outcome_free(outcome);
        outcome = NULL;
    }
    s = nzpir_client_lookup(ready, "{\"IRD\":\"139276507\",\"PieIRD\":\"" PIE_S "\",\"FilingPeriod\":26}",
                            &outcome, &err);
    CHECK(nzpir_error_field_count(err) == 1);
    CHECK_STR(nzpir_error_field_name(err, 0), "FilingPeriod");
    CHECK_STR(nzpir_error_field_rule(err, 0), "year_range");
    CHECK_STATUS(s, err, NZPIR_STATUS_INVALID_INPUT);
}

/* A port on this machine where nothing listens. */
static int closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        getsockname(fd, (struct sockaddr *)&addr, &len) == 0) {
        port = ntohs(addr.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

static void connection_failures(void) {
    char url[64];
    int port = closed_port();
    CHECK(port > 0);
    snprintf(url, sizeof url, "https://127.0.0.1:%d", port);
    char *json = sandbox_config(url, env("NZPIR_SANDBOX_CLIENT_CERT"), env("NZPIR_SANDBOX_CLIENT_KEY"),
                                1, NULL, ",\"max_retries\":0");
    nzpir_client *client = client_from_json(json);
    free(json);
    expect_error(client, "139276507", PIE_S, NZPIR_STATUS_TRANSPORT, NULL, 0, 1);
    nzpir_error *err = NULL;
    CHECK_STATUS(nzpir_client_status(client, &err), err, NZPIR_STATUS_TRANSPORT);
    nzpir_client_free(client);

    /* Without the sandbox CA the server is not trusted. */
    json = sandbox_config(env("NZPIR_SANDBOX_URL"), env("NZPIR_SANDBOX_CLIENT_CERT"),
                          env("NZPIR_SANDBOX_CLIENT_KEY"), 0, NULL, ",\"max_retries\":0");
    client = client_from_json(json);
    free(json);
    expect_error(client, "139276507", PIE_S, NZPIR_STATUS_TLS, NULL, 0, 0);
    CHECK_STATUS(nzpir_client_status(client, &err), err, NZPIR_STATUS_TLS);
    nzpir_client_free(client);
}

int main(void) {
    nzpir_client *ready = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_client_new_from_file(env("NZPIR_SANDBOX_CONFIG"), &ready, &err);
    if (s != NZPIR_STATUS_OK) {
        fprintf(stderr, "client from %s: %s\n", env("NZPIR_SANDBOX_CONFIG"),
                nzpir_error_message(err));
    }
    CHECK_STATUS(s, err, NZPIR_STATUS_OK);
    if (ready == NULL) {
        return finish("test_lookup");
    }
    answers(ready);
    doctor();
    authentication();
    rate_limited(ready);
    faults(ready);
    contract(ready);
    connection_failures();
    nzpir_client_free(ready);
    return finish("test_lookup");
}
