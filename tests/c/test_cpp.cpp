/*
 * include/nzpir.hpp against a live sandbox (tests/c/run.sh starts it and
 * exports NZPIR_SANDBOX_*): RAII handles, rates and "not found", the
 * exceptions with the error's kind, IR code, HTTP status and field errors,
 * and OAuth over a C++ token store (its lock held around every save, its
 * exceptions turned into token_store errors).
 */
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
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

static std::string env(const char *name) {
    const char *v = std::getenv(name);
    return v ? v : "";
}

/* JSON string literal of `s` (the paths and URLs here need no escapes but
 * quotes and backslashes). */
static std::string quoted(const std::string &s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

/* The browser's trip: IR's authorize URL answers with a redirect. */
static std::string browser(const std::string &url) {
    std::string cmd = "curl -sS -o /dev/null -w '%{redirect_url}' --cacert '" +
                      env("NZPIR_SANDBOX_CA_CERT") + "' '" + url + "'";
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) return "";
    std::string out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    return out;
}

struct MemoryStore : nzpir::TokenStore {
    std::optional<std::string> tokens;
    bool held = false;
    int locks = 0;
    int saves = 0;
    int saves_unlocked = 0;
    bool fail_save = false;
    bool fail_lock = false;

    std::optional<std::string> load() override { return tokens; }
    void save(std::string_view t) override {
        if (fail_save) throw std::runtime_error("the vault is sealed");
        saves++;
        if (!held) saves_unlocked++;
        tokens = std::string(t);
    }
    void lock() override {
        if (fail_lock) throw std::runtime_error("the lock is taken");
        held = true;
        locks++;
    }
    void unlock() noexcept override { held = false; }
};

static void oauth_over_a_cpp_store() {
    std::string config = "{\"environment\":\"sandbox\",\"endpoint\":" + quoted(env("NZPIR_SANDBOX_URL")) +
                         ",\"tls\":{\"client_cert\":" + quoted(env("NZPIR_SANDBOX_CLIENT_CERT")) +
                         ",\"client_key\":" + quoted(env("NZPIR_SANDBOX_CLIENT_KEY")) +
                         ",\"ca_cert\":" + quoted(env("NZPIR_SANDBOX_CA_CERT")) +
                         "},\"auth\":{\"type\":\"oauth\",\"client_id\":\"sandbox-app\","
                         "\"client_secret\":\"sandbox-app-secret\","
                         "\"redirect_uri\":\"http://127.0.0.1/callback\",\"endpoint\":" +
                         quoted(env("NZPIR_SANDBOX_OAUTH_URL")) + "},\"max_retries\":0}";
    auto store = std::make_shared<MemoryStore>();
    nzpir::Client client = nzpir::Client::with_token_store(config, store);
    // No grant yet.
    expect_error([&] { client.lookup("139439976"); }, "consent_required", nullptr, 0);

    nzpir::Authorization a = client.oauth_authorization_url();
    CHECK(a.url.find("/gateway3/oauth/authorize?") != std::string::npos);
    CHECK(!a.state.empty() && !a.code_verifier.empty());
    std::string redirect = browser(a.url);
    CHECK(redirect.find("http://127.0.0.1/callback?") == 0);
    expect_error([&] { client.oauth_exchange(redirect, "forged-state", a.code_verifier); },
                 "authentication", nullptr, 0);
    CHECK(store->saves == 0);
    client.oauth_exchange(redirect, a.state, a.code_verifier);
    CHECK(store->saves == 1 && store->tokens && store->tokens->find("refresh_token") != std::string::npos);

    // ruru.agent's client, without PieIRD: 10.5.
    nzpir::Outcome o = client.lookup("139439976");
    CHECK(o.rate() && *o.rate() == "10.5");
    std::string before = *store->tokens;
    client.oauth_refresh();
    CHECK(store->saves == 2 && *store->tokens != before);
    // Every save inside the store's lock, and the lock released.
    CHECK(store->saves_unlocked == 0 && store->locks >= 2 && !store->held);

    // A store that throws: the call fails with token_store, nothing crosses.
    store->fail_save = true;
    expect_error([&] { client.oauth_refresh(); }, "token_store", nullptr, 0);
    store->fail_save = false;
    store->fail_lock = true;
    int saves = store->saves;
    expect_error([&] { client.oauth_refresh(); }, "token_store", nullptr, 0);
    CHECK(store->saves == saves);
    store->fail_lock = false;
    CHECK(!store->held);
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
    try {
        moved.lookup("139276507");
        CHECK(!"no exception");
    } catch (const nzpir::Error &e) {
        CHECK(e.attempts() == 1);
        CHECK(e.ir_errors().size() == 1);
        CHECK(!e.ir_errors().empty() && e.ir_errors()[0].code == "PIR101" &&
              e.ir_errors()[0].type == "validation" && !e.ir_errors()[0].field);
    }
    try {
        moved.lookup("136410133", PIE_S);
        CHECK(!"no exception");
    } catch (const nzpir::Error &e) {
        CHECK(e.attempts() == 0 && e.ir_errors().empty());
    }
    expect_error([&] { moved.lookup("139276272", PIE_S); }, "authorisation", "EV1043", 401);
    expect_error([&] { moved.lookup("139276507", PIE_T); }, "authorisation", "EV1042", 401);
    // Bad input never reaches the network; a view with a NUL byte is refused.
    expect_error([&] { moved.lookup("136410133", PIE_S); }, "invalid_input", nullptr, 0);
    expect_error([&] { moved.lookup_json(std::string_view("{}\0{}", 5)); }, "invalid_input",
                 nullptr, 0);
    expect_error([] { nzpir::Client::from_json("{\"environment\": 1}"); }, "config", nullptr, 0);
    // A configuration error names its setting by its JSON key; others name none.
    try {
        nzpir::Client::from_json("{\"max_retries\": 101}");
        CHECK(!"no exception");
    } catch (const nzpir::Error &e) {
        CHECK(e.setting() && *e.setting() == "max_retries");
    }
    try {
        moved.lookup("136410133", PIE_S);
        CHECK(!"no exception");
    } catch (const nzpir::Error &e) {
        CHECK(!e.setting());
    }
    expect_error([] { nzpir::Client::from_file("/nonexistent/nzpir.toml"); }, "config", nullptr,
                 0);

    oauth_over_a_cpp_store();

    std::printf("test_cpp: %d checks passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
