/*
 * include/nzpir.hpp against a live sandbox (tests/c/run.sh starts it and
 * exports NZPIR_SANDBOX_*): RAII handles, rates and "not found", and the
 * exceptions with the error's kind, IR code, HTTP status and field errors.
 */
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "nzpir.hpp"

static_assert(!std::is_copy_constructible_v<nzpir::Client>, "a client owns its handle");
static_assert(std::is_nothrow_move_constructible_v<nzpir::Client>, "clients move");
static_assert(!std::is_copy_constructible_v<nzpir::Outcome>, "an outcome owns its handle");

static int failed = 0;
static int passed = 0;

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (cond) {                                                                         \
            passed++;                                                                       \
        } else {                                                                            \
            failed++;                                                                       \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                                   \
    } while (0)

static const char *PIE_S = "125000002";
static const char *PIE_T = "130000002";

template <typename F>
static void expect_error(F call, const char *kind, const char *ir_code, unsigned http) {
    try {
        call();
        CHECK(!"no exception");
    } catch (const nzpir::Error &e) {
        if (e.kind() != kind) std::fprintf(stderr, "kind %s, expected %s\n", e.kind().c_str(), kind);
        CHECK(e.kind() == kind);
        CHECK(std::string(nzpir_status_name(static_cast<std::uint32_t>(e.status()))) == kind);
        if (ir_code) {
            CHECK(e.ir_code() && *e.ir_code() == ir_code);
            CHECK(std::string(e.what()).find(ir_code) != std::string::npos);
        } else {
            CHECK(!e.ir_code());
        }
        CHECK(e.http_status() == http);
    }
}

int main() {
    const char *config = std::getenv("NZPIR_SANDBOX_CONFIG");
    if (!config) {
        std::fprintf(stderr, "NZPIR_SANDBOX_CONFIG is not set\n");
        return 2;
    }
    CHECK(nzpir::abi_matches());
    CHECK(nzpir::version() == std::to_string(NZPIR_VERSION_MAJOR) + "." +
                                  std::to_string(NZPIR_VERSION_MINOR) + "." +
                                  std::to_string(NZPIR_VERSION_PATCH));

    // IRD numbers: no network.
    CHECK(nzpir::is_valid_ird("49-091-850"));
    CHECK(!nzpir::is_valid_ird("136410133"));
    CHECK(!nzpir::is_valid_ird(std::string_view("49091850\0x", 10)));
    CHECK(nzpir::normalise_ird(std::string_view("49-091-850 trailing", 10)) == "049091850");
    try {
        nzpir::normalise_ird("136410133");
        CHECK(!"no exception");
    } catch (const nzpir::Error &e) {
        CHECK(e.kind() == "invalid_input");
        CHECK(e.status() == NZPIR_STATUS_INVALID_INPUT);
        CHECK(e.fields().size() == 1 && e.fields()[0].rule == "ird_check_digit");
        CHECK(!e.retryable());
    }

    nzpir::Client client = nzpir::Client::from_file(config);
    client.status();

    // Rates, as IR wrote them and in hundredths.
    nzpir::Outcome o = client.lookup("139276507", PIE_S);
    CHECK(!o.not_found());
    CHECK(o.rate() && *o.rate() == "28");
    CHECK(o.rate_hundredths() && *o.rate_hundredths() == 2800);
    CHECK(o.ird() == "139276507");
    CHECK(o.pie_ird() && *o.pie_ird() == PIE_S);

    // A moved client still works; the moved-from one owns nothing.
    nzpir::Client moved = std::move(client);
    CHECK(moved.native_handle() != nullptr);
    o = moved.lookup("139276310", PIE_S);
    CHECK(o.rate() && *o.rate() == "10.5");

    // Not found, from IR's request JSON.
    nzpir::Outcome nf = moved.lookup_json("{\"IRD\":\"49-091-850\",\"PieIRD\":\"125000002\"}");
    CHECK(nf.not_found());
    CHECK(!nf.rate() && !nf.rate_hundredths());
    CHECK(nf.json() == "{\"IRD\":\"049091850\",\"PieIRD\":\"125000002\",\"PirRateNotFound\":true}");

    // IR's refusals carry the kind, IR's code and the HTTP status.
    expect_error([&] { moved.lookup("139276507"); }, "rejected", "PIR101", 400);
    expect_error([&] { moved.lookup("139276272", PIE_S); }, "authorisation", "EV1043", 401);
    expect_error([&] { moved.lookup("139276507", PIE_T); }, "authorisation", "EV1042", 401);
    // Bad input never reaches the network; a view with a NUL byte is refused.
    expect_error([&] { moved.lookup("136410133", PIE_S); }, "invalid_input", nullptr, 0);
    expect_error([&] { moved.lookup_json(std::string_view("{}\0{}", 5)); }, "invalid_input",
                 nullptr, 0);
    expect_error([] { nzpir::Client::from_json("{\"environment\": 1}"); }, "config", nullptr, 0);
    expect_error([] { nzpir::Client::from_file("/nonexistent/nzpir.toml"); }, "config", nullptr,
                 0);

    std::printf("test_cpp: %d checks passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
