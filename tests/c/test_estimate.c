/*
 * The PIR estimator through the C ABI: JSON facts in, JSON estimate out,
 * field errors for bad facts, bad arguments, and the sandbox investors whose
 * answers the sandbox derives from the same rules.
 */
#include <stdint.h>

#include "harness.h"

/* Estimates and returns the result JSON (free it), checking the status. */
static char *estimate(const char *facts, nzpir_status expected) {
    char *out = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_estimate_pir(facts, &out, &err);
    CHECK_STATUS(s, err, expected);
    CHECK((out != NULL) == (expected == NZPIR_STATUS_OK));
    return out;
}

static void has_text(const char *haystack, const char *needle) {
    CHECK(haystack != NULL && strstr(haystack, needle) != NULL);
    if (haystack != NULL && strstr(haystack, needle) == NULL) {
        fprintf(stderr, "  \"%s\" not in %s\n", needle, haystack);
    }
}

static void rates(void) {
    /* PIR-OB-012: the 48,000 / 70,000 row before the 2026 PIR year. */
    char *out = estimate("{\"pir_year\": 2025, \"income\": ["
                         "{\"year\": 2023, \"taxable_income\": \"48000.00\", \"pie_income\": \"22000\"},"
                         "{\"year\": 2024, \"taxable_income\": 47000, \"pie_income\": 23000}]}",
                         NZPIR_STATUS_OK);
    has_text(out, "\"rate\":17.5");
    has_text(out, "\"rate_decimal\":\"17.5\"");
    has_text(out, "\"rule\":\"resident_individual\"");
    has_text(out, "48,000 or less");
    nzpir_string_free(out);

    /* The 2026 table: 53,500 / 78,100 inclusive. */
    out = estimate("{\"filing_period\": \"2026-03-31\", \"income\": ["
                   "{\"year\": 2024, \"taxable_income\": \"53500\", \"pie_income\": \"24600\"},"
                   "{\"year\": 2025, \"taxable_income\": \"53500.01\"}]}",
                   NZPIR_STATUS_OK);
    has_text(out, "\"rate\":17.5");
    has_text(out, "\"decided_by_year\":2024");
    nzpir_string_free(out);

    /* PIR-OB-009 to 011. */
    out = estimate("{\"investor_type\": \"company\"}", NZPIR_STATUS_OK);
    has_text(out, "\"rule\":\"zero_rate_entity\"");
    nzpir_string_free(out);
    out = estimate("{\"residency\": \"non_resident\"}", NZPIR_STATUS_OK);
    has_text(out, "\"rate\":28");
    nzpir_string_free(out);
    out = estimate("{\"pir_year\": 2026, \"income\": []}", NZPIR_STATUS_OK);
    has_text(out, "\"rate\":10.5");
    nzpir_string_free(out);

    /* Cannot estimate: the rate is null and the missing fact is named. */
    out = estimate("{\"investor_type\": \"trustee\"}", NZPIR_STATUS_OK);
    has_text(out, "\"rate\":null");
    has_text(out, "\"missing\":[\"trustee_election\"]");
    nzpir_string_free(out);
}

static void bad_facts(void) {
    char *out = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_estimate_pir(
        "{\"pir_year\": 2010, \"income\": [{\"year\": 2024, \"taxable_income\": \"1.234\"}]}", &out,
        &err);
    CHECK(s == NZPIR_STATUS_INVALID_INPUT);
    CHECK(out == NULL);
    CHECK(nzpir_error_field_count(err) == 2);
    CHECK_STR(nzpir_error_field_name(err, 0), "pir_year");
    CHECK_STR(nzpir_error_field_rule(err, 0), "year_range");
    CHECK_STR(nzpir_error_field_name(err, 1), "income.taxable_income");
    CHECK_STR(nzpir_error_field_rule(err, 1), "amount");
    nzpir_error_free(err);
    err = NULL;

    out = estimate("not json", NZPIR_STATUS_INVALID_INPUT);
    out = estimate("\xff\xfe", NZPIR_STATUS_INVALID_UTF8);
    out = estimate(NULL, NZPIR_STATUS_NULL_ARGUMENT);
    CHECK(nzpir_estimate_pir("{}", NULL, NULL) == NZPIR_STATUS_NULL_ARGUMENT);
    (void)out;
}

static void sandbox_investors(void) {
    nzpir_client *client = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_client_new_from_file(env("NZPIR_SANDBOX_CONFIG"), &client, &err);
    CHECK_STATUS(s, err, NZPIR_STATUS_OK);
    if (client == NULL) {
        return;
    }
    const char *requests[] = {
        "{\"IRD\":\"139280016\",\"PieIRD\":\"125000002\"}",
        "{\"IRD\":\"139280032\",\"PieIRD\":\"125000002\",\"FilingPeriod\":\"2025-03-31\"}",
        "{\"IRD\":\"139280008\",\"PieIRD\":\"125000002\"}",
    };
    const uint32_t expected[] = {2800, 1750, 0};
    for (size_t i = 0; i < 3; i++) {
        nzpir_outcome *outcome = NULL;
        s = nzpir_client_lookup(client, requests[i], &outcome, &err);
        CHECK_STATUS(s, err, NZPIR_STATUS_OK);
        if (outcome != NULL) {
            uint32_t h = 0;
            bool has_rate = nzpir_outcome_rate_hundredths(outcome, &h);
            CHECK(has_rate == (expected[i] != 0));
            CHECK(h == expected[i]);
            CHECK(nzpir_outcome_is_not_found(outcome) == (expected[i] == 0));
            nzpir_outcome_free(outcome);
        }
    }
    nzpir_client_free(client);
}

int main(void) {
    rates();
    bad_facts();
    sandbox_investors();
    return finish("test_estimate");
}
