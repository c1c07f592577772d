/*
 * Everything that needs no gateway: versions, status names, IRD validation
 * (single, normalised, bulk), error accessors, and bad input at every entry
 * point: NULL arguments, invalid UTF-8, malformed JSON, unknown configuration
 * keys, oversized input, too-small buffers. Nothing may crash or leak.
 */
#include <stdint.h>

#include "harness.h"

static void versions(void) {
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", NZPIR_VERSION_MAJOR, NZPIR_VERSION_MINOR,
             NZPIR_VERSION_PATCH);
    CHECK_STR(nzpir_version(), expected);
    CHECK(nzpir_abi_version() == NZPIR_ABI_VERSION);

    CHECK_STR(nzpir_status_name(NZPIR_STATUS_OK), "ok");
    CHECK_STR(nzpir_status_name(NZPIR_STATUS_RATE_LIMITED), "rate_limited");
    CHECK_STR(nzpir_status_name(NZPIR_STATUS_NULL_ARGUMENT), "null_argument");
    CHECK_STR(nzpir_status_name(NZPIR_STATUS_PANIC), "panic");
    CHECK_STR(nzpir_status_name(13), "unknown");
    CHECK_STR(nzpir_status_name(UINT32_MAX), "unknown");
    /* Numbers are part of the ABI. */
    CHECK(NZPIR_STATUS_INVALID_INPUT == 1 && NZPIR_STATUS_TOKEN_STORE == 12);
    CHECK(NZPIR_STATUS_OTHER == 99 && NZPIR_STATUS_NULL_ARGUMENT == 100);
    CHECK(NZPIR_STATUS_PANIC == 104);
}

static void ird_single(void) {
    nzpir_ird_reason reason = NZPIR_IRD_REASON_OTHER;
    CHECK(nzpir_ird_validate("49091850", &reason));
    CHECK(reason == NZPIR_IRD_REASON_VALID);
    CHECK(nzpir_ird_validate("049-091-850", &reason));
    CHECK(nzpir_ird_validate(" 136410132 ", NULL));
    CHECK(!nzpir_ird_validate("136410133", &reason));
    CHECK(reason == NZPIR_IRD_REASON_CHECK_DIGIT);
    CHECK_STR(nzpir_ird_reason_message(reason), "fails the modulus-11 check digit");
    CHECK(!nzpir_ird_validate("9125568", &reason));
    CHECK(reason == NZPIR_IRD_REASON_WRONG_LENGTH);
    CHECK(!nzpir_ird_validate("12345678a", &reason));
    CHECK(reason == NZPIR_IRD_REASON_NOT_DIGITS);
    CHECK(!nzpir_ird_validate("009999999", &reason));
    CHECK(reason == NZPIR_IRD_REASON_OUT_OF_RANGE);
    /* IR's range runs to 200,000,000 since 1 April 2026. */
    CHECK(nzpir_ird_validate("172345603", &reason));
    CHECK(nzpir_ird_validate("199999990", &reason));
    CHECK(!nzpir_ird_validate("200000005", &reason));
    CHECK(reason == NZPIR_IRD_REASON_OUT_OF_RANGE);
    CHECK_STR(nzpir_ird_reason_message(reason), "must be between 10,000,000 and 200,000,000");
    CHECK(!nzpir_ird_validate("", &reason));
    CHECK(reason == NZPIR_IRD_REASON_WRONG_LENGTH);
    /* Invalid UTF-8 is just not digits. */
    CHECK(!nzpir_ird_validate("\xff\xfe\x80", &reason));
    CHECK(reason == NZPIR_IRD_REASON_NOT_DIGITS);
    CHECK(!nzpir_ird_validate(NULL, &reason));
    CHECK(reason == NZPIR_IRD_REASON_NULL_ARGUMENT);
    CHECK(!nzpir_ird_validate(NULL, NULL));
    CHECK_STR(nzpir_ird_reason_message(12345), "not a valid IRD number");

    char buf[NZPIR_IRD_BUFFER_LEN];
    nzpir_error *err = NULL;
    CHECK_STATUS(nzpir_ird_normalise("49-091-850", buf, sizeof buf, &err), err, NZPIR_STATUS_OK);
    CHECK_STR(buf, "049091850");
    CHECK(err == NULL);

    memcpy(buf, "untouched", 10);
    nzpir_status s = nzpir_ird_normalise("136410133", buf, sizeof buf, &err);
    CHECK(s == NZPIR_STATUS_INVALID_INPUT);
    CHECK_STR(nzpir_error_kind(err), "invalid_input");
    CHECK(nzpir_error_field_count(err) == 1);
    CHECK_STR(nzpir_error_field_name(err, 0), "IRD");
    CHECK_STR(nzpir_error_field_rule(err, 0), "ird_check_digit");
    CHECK_STR(nzpir_error_field_message(err, 0), "fails the modulus-11 check digit");
    CHECK(nzpir_error_field_name(err, 1) == NULL);
    CHECK(!contains(nzpir_error_message(err), "136410133"));
    CHECK_STR(buf, "untouched");
    CHECK_STATUS(s, err, NZPIR_STATUS_INVALID_INPUT);

    CHECK_STATUS(nzpir_ird_normalise("49091850", buf, 9, &err), err, NZPIR_STATUS_BUFFER_TOO_SMALL);
    CHECK_STR(buf, "untouched");
    CHECK_STATUS(nzpir_ird_normalise(NULL, buf, sizeof buf, &err), err, NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_ird_normalise("49091850", NULL, 10, &err), err, NZPIR_STATUS_NULL_ARGUMENT);
    /* Without an error pointer the status alone comes back. */
    CHECK(nzpir_ird_normalise("x", buf, sizeof buf, NULL) == NZPIR_STATUS_INVALID_INPUT);
}

static void ird_bulk(void) {
    const char *irds[] = {"49091850", "136410133", "49-091-850", NULL, "x", "136410132"};
    const size_t n = sizeof irds / sizeof irds[0];
    bool valid[6];
    size_t valid_count = 99;
    nzpir_error *err = NULL;
    CHECK_STATUS(nzpir_ird_validate_many(irds, n, valid, &valid_count, &err), err, NZPIR_STATUS_OK);
    CHECK(valid[0] && !valid[1] && valid[2] && !valid[3] && !valid[4] && valid[5]);
    CHECK(valid_count == 3);
    for (size_t i = 0; i < n; i++) {
        CHECK(valid[i] == nzpir_ird_validate(irds[i], NULL));
    }
    /* The count is optional; an empty batch needs no arrays. */
    CHECK_STATUS(nzpir_ird_validate_many(irds, n, valid, NULL, &err), err, NZPIR_STATUS_OK);
    valid_count = 99;
    CHECK_STATUS(nzpir_ird_validate_many(NULL, 0, NULL, &valid_count, &err), err, NZPIR_STATUS_OK);
    CHECK(valid_count == 0);
    valid_count = 99;
    CHECK_STATUS(nzpir_ird_validate_many(NULL, 3, valid, &valid_count, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
    CHECK(valid_count == 99);
    CHECK_STATUS(nzpir_ird_validate_many(irds, n, NULL, &valid_count, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
    CHECK(valid_count == 99);
    CHECK_STATUS(nzpir_ird_validate_many(irds, SIZE_MAX, valid, &valid_count, &err), err,
                 NZPIR_STATUS_TOO_LARGE);

    /* A large batch: every 11th base is skipped by the check digit, so count
     * against the single call. */
    enum { BIG = 20000 };
    static char storage[BIG][12];
    static const char *big[BIG];
    static bool big_valid[BIG];
    size_t expected = 0;
    for (int i = 0; i < BIG; i++) {
        snprintf(storage[i], sizeof storage[i], "%09d", 100000000 + i * 7919);
        big[i] = storage[i];
        expected += nzpir_ird_validate(big[i], NULL) ? 1 : 0;
    }
    CHECK_STATUS(nzpir_ird_validate_many(big, BIG, big_valid, &valid_count, &err), err,
                 NZPIR_STATUS_OK);
    CHECK(valid_count == expected);
    CHECK(expected > 0 && expected < BIG);
}

static void errors_read_safely_when_null(void) {
    CHECK(nzpir_error_status(NULL) == NZPIR_STATUS_OK);
    CHECK_STR(nzpir_error_kind(NULL), "ok");
    CHECK_STR(nzpir_error_message(NULL), "");
    CHECK(nzpir_error_ir_code(NULL) == NULL);
    CHECK(nzpir_error_http_status(NULL) == 0);
    CHECK(!nzpir_error_is_retryable(NULL));
    CHECK(nzpir_error_field_count(NULL) == 0);
    CHECK(nzpir_error_field_name(NULL, 0) == NULL);
    CHECK(nzpir_error_field_rule(NULL, 0) == NULL);
    CHECK(nzpir_error_field_message(NULL, 0) == NULL);
    nzpir_error_free(NULL);
    nzpir_string_free(NULL);
    nzpir_client_free(NULL);
    nzpir_outcome_free(NULL);

    CHECK(!nzpir_outcome_is_not_found(NULL));
    uint32_t h = 7;
    CHECK(!nzpir_outcome_rate_hundredths(NULL, &h));
    CHECK(h == 7);
    CHECK(nzpir_outcome_rate(NULL) == NULL);
    CHECK(nzpir_outcome_ird(NULL) == NULL);
    CHECK(nzpir_outcome_pie_ird(NULL) == NULL);
    CHECK(nzpir_outcome_json(NULL) == NULL);
}

/* A mock-environment client: builds offline (no identity, no auth). */
static nzpir_client *offline_client(void) {
    nzpir_client *client = NULL;
    nzpir_error *err = NULL;
    CHECK_STATUS(nzpir_client_new_from_json("{\"environment\":\"mock\",\"max_retries\":0}", &client,
                                            &err),
                 err, NZPIR_STATUS_OK);
    CHECK(client != NULL);
    return client;
}

static void bad_configuration(void) {
    nzpir_client *client = (nzpir_client *)(uintptr_t)0x1; /* must stay untouched */
    nzpir_client *const sentinel = client;
    nzpir_error *err = NULL;

    CHECK_STATUS(nzpir_client_new_from_json(NULL, &client, &err), err, NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_client_new_from_json("{\"environment\":\"mock\"}", NULL, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_client_new_from_json("{\"environment\":\"mo\xc3\x28\"}", &client, &err),
                 err, NZPIR_STATUS_INVALID_UTF8);
    CHECK_STATUS(nzpir_client_new_from_json("{\"environment\":", &client, &err), err,
                 NZPIR_STATUS_CONFIG);
    CHECK_STATUS(nzpir_client_new_from_json("[1,2]", &client, &err), err, NZPIR_STATUS_CONFIG);

    nzpir_status s = nzpir_client_new_from_json("{\"enviroment\":\"mock\"}", &client, &err);
    CHECK(s == NZPIR_STATUS_CONFIG);
    CHECK_STR(nzpir_error_kind(err), "config");
    CHECK(contains(nzpir_error_message(err), "enviroment"));
    CHECK(nzpir_error_http_status(err) == 0);
    CHECK(nzpir_error_ir_code(err) == NULL);
    CHECK(nzpir_error_setting(NULL) == NULL);
    CHECK_STATUS(s, err, NZPIR_STATUS_CONFIG);

    s = nzpir_client_new_from_json("{\"environment\":\"mock\",\"tls\":{\"client_cert\":\"/nonexistent/c.pem\",\"client_key\":\"/nonexistent/c.key\"}}",
                                   &client, &err);
    CHECK(contains(nzpir_error_message(err), "tls.client_cert"));
    CHECK_STR(nzpir_error_setting(err), "tls.client_cert");
    CHECK_STATUS(s, err, NZPIR_STATUS_CONFIG);
    /* IR's rules as they stand: startLogon's unset form is null or empty, and
     * PIR has no desktop endpoint. */
    s = nzpir_client_new_from_json("{\"environment\":\"mock\",\"auth\":{\"type\":\"jwt\",\"cert\":\"/nonexistent/j.pem\","
                                   "\"key\":\"/nonexistent/j.key\",\"issuer\":\"x\",\"unset_start_logon\":\"nothing\"}}",
                                   &client, &err);
    CHECK(contains(nzpir_error_message(err), "auth.unset_start_logon"));
    CHECK_STATUS(s, err, NZPIR_STATUS_CONFIG);
    s = nzpir_client_new_from_json("{\"environment\":\"production\",\"connection\":\"desktop\"}", &client, &err);
    CHECK(contains(nzpir_error_message(err), "no desktop PIR endpoint"));
    CHECK_STATUS(s, err, NZPIR_STATUS_CONFIG);
    /* A secret in a bad configuration never reaches the message. */
    s = nzpir_client_new_from_json("{\"environment\":\"test\",\"tls\":{\"client_cert_pem\":\"x\",\"client_key_pem\":\"sekrit-key-material\"}}",
                                   &client, &err);
    CHECK(!contains(nzpir_error_message(err), "sekrit"));
    CHECK_STATUS(s, err, NZPIR_STATUS_CONFIG);

    /* Oversized: NZPIR_MAX_JSON_BYTES + 1 bytes of valid JSON is refused unread;
     * exactly NZPIR_MAX_JSON_BYTES is parsed (a valid configuration that lacks
     * an environment). */
    const size_t max = NZPIR_MAX_JSON_BYTES;
    char *json = malloc(max + 2);
    CHECK(json != NULL);
    if (json != NULL) {
        memset(json, ' ', max + 1);
        json[0] = '{';
        json[max] = '}';
        json[max + 1] = '\0';
        CHECK_STATUS(nzpir_client_new_from_json(json, &client, &err), err, NZPIR_STATUS_TOO_LARGE);
        json[max - 1] = '}';
        json[max] = '\0';
        s = nzpir_client_new_from_json(json, &client, &err);
        CHECK(contains(nzpir_error_message(err), "environment"));
        CHECK_STATUS(s, err, NZPIR_STATUS_CONFIG);
        free(json);
    }

    /* Files. */
    CHECK_STATUS(nzpir_client_new_from_file(NULL, &client, &err), err, NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_client_new_from_file("/nonexistent/nzpir.toml", &client, &err), err,
                 NZPIR_STATUS_CONFIG);
    CHECK_STATUS(nzpir_client_new_from_file("/tmp/\xff.toml", &client, &err), err,
                 NZPIR_STATUS_INVALID_UTF8);
    char path[NZPIR_MAX_PATH_BYTES + 2];
    memset(path, 'a', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    CHECK_STATUS(nzpir_client_new_from_file(path, &client, &err), err, NZPIR_STATUS_TOO_LARGE);

    /* Files in the folder run.sh gives the tests (and removes afterwards). */
    const char *dir = env("NZPIR_TEST_TMPDIR");
    char file[1024];
    snprintf(file, sizeof file, "%s/bad.toml", dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs("environment = \"mock\"\nunknown_key = 1\n", f);
        fclose(f);
    }
    s = nzpir_client_new_from_file(file, &client, &err);
    CHECK(contains(nzpir_error_message(err), "unknown_key"));
    CHECK_STATUS(s, err, NZPIR_STATUS_CONFIG);

    snprintf(file, sizeof file, "%s/good.json", dir);
    f = fopen(file, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        fputs("{\"environment\":\"mock\"}", f);
        fclose(f);
    }
    nzpir_client *from_json_file = NULL;
    CHECK_STATUS(nzpir_client_new_from_file(file, &from_json_file, &err), err, NZPIR_STATUS_OK);
    CHECK(from_json_file != NULL);
    nzpir_client_free(from_json_file);

    /* A file over the limit is refused before it is read. */
    snprintf(file, sizeof file, "%s/huge.toml", dir);
    f = fopen(file, "w");
    CHECK(f != NULL);
    if (f != NULL) {
        CHECK(fseek(f, (long)NZPIR_MAX_JSON_BYTES + 10, SEEK_SET) == 0);
        fputc('\n', f);
        fclose(f);
    }
    CHECK_STATUS(nzpir_client_new_from_file(file, &client, &err), err, NZPIR_STATUS_TOO_LARGE);
    CHECK(client == sentinel);
}

static void bad_requests(void) {
    nzpir_client *client = offline_client();
    nzpir_outcome *outcome = NULL;
    nzpir_error *err = NULL;

    CHECK_STATUS(nzpir_client_lookup(NULL, "{\"IRD\":\"49091850\"}", &outcome, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_client_lookup(client, NULL, &outcome, &err), err, NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_client_lookup(client, "{\"IRD\":\"49091850\"}", NULL, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_client_lookup(client, "{\"IRD\":\"4909\xe2\x28\xa1\"}", &outcome, &err),
                 err, NZPIR_STATUS_INVALID_UTF8);
    nzpir_status s = nzpir_client_lookup(client, "{\"IRD\":\"136410133\",", &outcome, &err);
    CHECK(!contains(nzpir_error_message(err), "136410133"));
    CHECK_STATUS(s, err, NZPIR_STATUS_INVALID_INPUT);
    s = nzpir_client_lookup(client, "{\"IRD\":\"49091850\",\"Surname\":\"Smith\"}", &outcome, &err);
    CHECK(contains(nzpir_error_message(err), "Surname"));
    CHECK(!contains(nzpir_error_message(err), "Smith"));
    CHECK_STATUS(s, err, NZPIR_STATUS_INVALID_INPUT);
    CHECK_STATUS(nzpir_client_lookup(client, "", &outcome, &err), err, NZPIR_STATUS_INVALID_INPUT);

    /* Every rule at once, checked locally: nothing is sent. */
    s = nzpir_client_lookup(client,
                            "{\"IRD\":\"136410133\",\"PieIRD\":\"12\",\"FilingPeriod\":\"2024-04-01\","
                            "\"Name\":{\"FirstName\":\"\",\"LastName\":\"Allen\"},"
                            "\"Address\":{\"Street\":\"1 Queen St\",\"City\":\"Auckland\",\"Country\":\"XX\"}}",
                            &outcome, &err);
    CHECK(s == NZPIR_STATUS_INVALID_INPUT);
    CHECK(nzpir_error_http_status(err) == 0);
    size_t n = nzpir_error_field_count(err);
    CHECK(n == 5);
    const char *expected[][2] = {{"IRD", "ird_check_digit"},
                                 {"PieIRD", "ird_length"},
                                 {"FilingPeriod", "filing_period_march_31"},
                                 {"Name.FirstName", "min_length"},
                                 {"Address.Country", "country_code"}};
    for (size_t i = 0; i < n && i < 5; i++) {
        CHECK_STR(nzpir_error_field_name(err, i), expected[i][0]);
        CHECK_STR(nzpir_error_field_rule(err, i), expected[i][1]);
        CHECK(strlen(nzpir_error_field_message(err, i)) > 0);
    }
    CHECK(!contains(nzpir_error_message(err), "136410133"));
    CHECK(!contains(nzpir_error_message(err), "Allen"));
    CHECK(!contains(nzpir_error_message(err), "Queen"));
    CHECK_STATUS(s, err, NZPIR_STATUS_INVALID_INPUT);

    size_t big = NZPIR_MAX_JSON_BYTES + 100;
    char *json = malloc(big + 1);
    CHECK(json != NULL);
    if (json != NULL) {
        memset(json, 'a', big);
        json[big] = '\0';
        CHECK_STATUS(nzpir_client_lookup(client, json, &outcome, &err), err, NZPIR_STATUS_TOO_LARGE);
        free(json);
    }
    CHECK(outcome == NULL);

    CHECK_STATUS(nzpir_client_status(NULL, &err), err, NZPIR_STATUS_NULL_ARGUMENT);
    nzpir_client_free(client);
}

/* OAuth calls on a client that does not use OAuth, and NULLs everywhere. */
static int never_load(void *ctx, char *buf, size_t len, size_t *out) {
    (void)ctx;
    (void)buf;
    (void)len;
    (void)out;
    return NZPIR_TOKEN_STORE_EMPTY;
}

static int never_save(void *ctx, const char *data, size_t len) {
    (void)ctx;
    (void)data;
    (void)len;
    return 1;
}

static void oauth_misuse(void) {
    nzpir_client *client = offline_client();
    nzpir_error *err = NULL;
    char *url = NULL, *state = NULL, *verifier = NULL;

    CHECK_STATUS(nzpir_oauth_authorization_url(client, &url, &state, &verifier, &err), err,
                 NZPIR_STATUS_CONFIG);
    CHECK(url == NULL && state == NULL && verifier == NULL);
    CHECK_STATUS(nzpir_oauth_authorization_url(NULL, &url, &state, &verifier, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_oauth_authorization_url(client, NULL, &state, &verifier, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_oauth_authorization_url(client, &url, NULL, &verifier, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_oauth_authorization_url(client, &url, &state, NULL, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_oauth_exchange(client, "http://127.0.0.1/callback?code=c&state=s", "s", "v",
                                      &err),
                 err, NZPIR_STATUS_CONFIG);
    CHECK_STATUS(nzpir_oauth_exchange(NULL, "x", "s", "v", &err), err, NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_oauth_exchange(client, NULL, "s", "v", &err), err, NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_oauth_exchange(client, "x", NULL, "v", &err), err, NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_oauth_exchange(client, "x", "s", NULL, &err), err, NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_oauth_exchange(client, "x\xff", "s", "v", &err), err,
                 NZPIR_STATUS_INVALID_UTF8);
    CHECK_STATUS(nzpir_oauth_refresh(client, &err), err, NZPIR_STATUS_CONFIG);
    CHECK_STATUS(nzpir_oauth_refresh(NULL, &err), err, NZPIR_STATUS_NULL_ARGUMENT);
    nzpir_client_free(client);

    const char *oauth_config =
        "{\"environment\":\"mock\",\"auth\":{\"type\":\"oauth\",\"client_id\":\"c\","
        "\"client_secret\":\"s\",\"redirect_uri\":\"http://127.0.0.1/callback\"}}";
    nzpir_token_store store = {NULL, never_load, never_save};
    nzpir_token_store no_load = {NULL, NULL, never_save};
    nzpir_token_store no_save = {NULL, never_load, NULL};
    client = NULL;
    CHECK_STATUS(nzpir_client_new_with_token_store(oauth_config, NULL, &client, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_client_new_with_token_store(oauth_config, &no_load, &client, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_client_new_with_token_store(oauth_config, &no_save, &client, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_client_new_with_token_store(NULL, &store, &client, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(nzpir_client_new_with_token_store(oauth_config, &store, NULL, &err), err,
                 NZPIR_STATUS_NULL_ARGUMENT);
    /* A store with a configuration that is not OAuth, or that names a file too. */
    CHECK_STATUS(nzpir_client_new_with_token_store("{\"environment\":\"mock\"}", &store, &client,
                                                   &err),
                 err, NZPIR_STATUS_CONFIG);
    CHECK_STATUS(nzpir_client_new_with_token_store(
                     "{\"environment\":\"mock\",\"auth\":{\"type\":\"oauth\",\"client_id\":\"c\","
                     "\"client_secret\":\"s\",\"token_store\":\"/tmp/t.json\"}}",
                     &store, &client, &err),
                 err, NZPIR_STATUS_CONFIG);
    CHECK(client == NULL);

    CHECK_STATUS(nzpir_client_new_with_token_store(oauth_config, &store, &client, &err), err,
                 NZPIR_STATUS_OK);
    /* Nothing stored: a person must authorise first. */
    CHECK_STATUS(nzpir_oauth_refresh(client, &err), err, NZPIR_STATUS_CONSENT_REQUIRED);
    /* The authorisation URL is made locally. */
    CHECK_STATUS(nzpir_oauth_authorization_url(client, &url, &state, &verifier, &err), err,
                 NZPIR_STATUS_OK);
    CHECK(contains(url, "https://oauth.test.services.ird.govt.nz/gateway3/oauth/authorize?"));
    CHECK(contains(url, "code_challenge_method=S256"));
    CHECK(contains(url, state));
    CHECK(!contains(url, verifier));
    CHECK(strlen(verifier) == 43);
    /* A redirect whose state differs is refused before anything is sent. */
    nzpir_status s = nzpir_oauth_exchange(client, "http://127.0.0.1/callback?code=abc&state=forged",
                                          state, verifier, &err);
    CHECK(contains(nzpir_error_message(err), "state"));
    CHECK_STATUS(s, err, NZPIR_STATUS_AUTHENTICATION);
    nzpir_string_free(url);
    nzpir_string_free(state);
    nzpir_string_free(verifier);
    nzpir_client_free(client);
}

int main(void) {
    versions();
    ird_single();
    ird_bulk();
    errors_read_safely_when_null();
    bad_configuration();
    bad_requests();
    oauth_misuse();
    return finish("test_basics");
}
