/*
 * nzpir.hpp: a header-only C++17 wrapper over nzpir.h (libnzpir).
 *
 * - RAII: nzpir::Client and nzpir::Outcome own their C handles (move-only),
 *   and every string the C API lends or hands over is copied into a
 *   std::string and freed at once.
 * - Errors are exceptions: every failing call throws nzpir::Error, which
 *   carries the status, the kind ("rate_limited", "authorisation", ...), the
 *   message, IR's code ("IR003", "EV1041", ...), the HTTP status, whether a
 *   retry may succeed, and the field errors of bad input. Messages never hold
 *   an IRD number, a name, a token or a key, so they are safe to log.
 * - std::string_view in, std::string out. A view holding a NUL byte is
 *   refused (nzpir::Error, kind "invalid_input") rather than cut short.
 *
 * Link with libnzpir as for C: find_package(nzpir) and nzpir::nzpir, or
 * pkg-config nzpir. Compiles with -std=c++17 -Wall -Wextra -pedantic.
 *
 *   nzpir::Client client = nzpir::Client::from_file("nzpir.toml");
 *   nzpir::Outcome o = client.lookup("139276507", "125000002");
 *   if (o.not_found()) { ... } else { std::cout << *o.rate() << " %\n"; }
 */
#ifndef NZPIR_HPP
#define NZPIR_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nzpir.h"

namespace nzpir {

/* The library's version ("0.1.0"): the loaded library's, which may differ from
 * the header's NZPIR_VERSION_* when the shared library was replaced. */
inline std::string version() { return nzpir_version(); }

/* Whether the loaded library has the ABI this header was written for. */
inline bool abi_matches() noexcept { return nzpir_abi_version() == NZPIR_ABI_VERSION; }

/* One rule a field of the input broke. */
struct FieldError {
    std::string field;   /* e.g. "ird" */
    std::string rule;    /* e.g. "ird_check_digit" */
    std::string message; /* one line, safe to log */
};

/* One error of IR's answer. */
struct IrError {
    std::string code;                 /* e.g. "EV1100" */
    std::string type;                 /* validation, security, server or result */
    std::string message;              /* IR's own text for the code */
    std::optional<std::string> field; /* the field EV1100 names */
};

/* Every failure of an nzpir call. */
class Error : public std::runtime_error {
  public:
    Error(nzpir_status status, std::string kind, const std::string &message,
          std::optional<std::string> ir_code = std::nullopt, std::uint16_t http_status = 0,
          bool retryable = false, std::vector<FieldError> fields = {},
          std::uint32_t attempts = 0, std::vector<IrError> ir_errors = {},
          std::optional<std::string> setting = std::nullopt)
        : std::runtime_error(message),
          status_(status),
          kind_(std::move(kind)),
          ir_code_(std::move(ir_code)),
          http_status_(http_status),
          retryable_(retryable),
          fields_(std::move(fields)),
          attempts_(attempts),
          ir_errors_(std::move(ir_errors)),
          setting_(std::move(setting)) {}

    /* The C status (NZPIR_STATUS_*). */
    nzpir_status status() const noexcept { return status_; }
    /* The kind's name, as every nzpir binding spells it. */
    const std::string &kind() const noexcept { return kind_; }
    /* IR's error code when the gateway sent one. */
    const std::optional<std::string> &ir_code() const noexcept { return ir_code_; }
    /* The HTTP status of the gateway's answer, 0 when there was none. */
    std::uint16_t http_status() const noexcept { return http_status_; }
    /* Whether trying the same call again later may succeed. */
    bool retryable() const noexcept { return retryable_; }
    /* The rules the input broke (invalid_input errors). */
    const std::vector<FieldError> &fields() const noexcept { return fields_; }
    /* How many times the gateway was called (0 when nothing was sent). */
    std::uint32_t attempts() const noexcept { return attempts_; }
    /* Every error IR's answer listed, in its order. */
    const std::vector<IrError> &ir_errors() const noexcept { return ir_errors_; }
    /* The setting a configuration error is about, by its JSON key. */
    const std::optional<std::string> &setting() const noexcept { return setting_; }

  private:
    nzpir_status status_;
    std::string kind_;
    std::optional<std::string> ir_code_;
    std::uint16_t http_status_;
    bool retryable_;
    std::vector<FieldError> fields_;
    std::uint32_t attempts_;
    std::vector<IrError> ir_errors_;
    std::optional<std::string> setting_;
};

namespace detail {

inline std::string copy(const char *s) { return s ? std::string(s) : std::string(); }

/* Turns a C error into an Error, frees it and throws. */
[[noreturn]] inline void raise(nzpir_status status, nzpir_error *err) {
    if (err == nullptr) {
        throw Error(status, copy(nzpir_status_name(static_cast<std::uint32_t>(status))),
                    "nzpir call failed: " + copy(nzpir_status_name(static_cast<std::uint32_t>(status))));
    }
    std::unique_ptr<nzpir_error, decltype(&nzpir_error_free)> owned(err, &nzpir_error_free);
    std::vector<FieldError> fields;
    const std::size_t n = nzpir_error_field_count(err);
    fields.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        fields.push_back(FieldError{copy(nzpir_error_field_name(err, i)),
                                    copy(nzpir_error_field_rule(err, i)),
                                    copy(nzpir_error_field_message(err, i))});
    }
    std::vector<IrError> ir_errors;
    const std::size_t m = nzpir_error_ir_error_count(err);
    ir_errors.reserve(m);
    for (std::size_t i = 0; i < m; ++i) {
        const char *field = nzpir_error_ir_error_field(err, i);
        ir_errors.push_back(IrError{copy(nzpir_error_ir_error_code(err, i)),
                                    copy(nzpir_error_ir_error_type(err, i)),
                                    copy(nzpir_error_ir_error_message(err, i)),
                                    field ? std::optional<std::string>(field) : std::nullopt});
    }
    const char *code = nzpir_error_ir_code(err);
    const char *setting = nzpir_error_setting(err);
    throw Error(nzpir_error_status(err), copy(nzpir_error_kind(err)),
                copy(nzpir_error_message(err)),
                code ? std::optional<std::string>(code) : std::nullopt,
                nzpir_error_http_status(err), nzpir_error_is_retryable(err), std::move(fields),
                nzpir_error_attempts(err), std::move(ir_errors),
                setting ? std::optional<std::string>(setting) : std::nullopt);
}

/* Takes the address of the error out-pointer, not its value: a function's
 * arguments are evaluated in no set order, so `err` itself could be read
 * before the call that fills it. */
inline void check(nzpir_status status, nzpir_error **err) {
    if (status != NZPIR_STATUS_OK) raise(status, *err);
}

/* A NUL-terminated copy of a view; a view holding a NUL byte is an error. */
inline std::string c_str(std::string_view value, const char *name) {
    if (value.find('\0') != std::string_view::npos) {
        throw Error(NZPIR_STATUS_INVALID_INPUT, "invalid_input",
                    std::string("argument `") + name + "` contains a NUL byte");
    }
    return std::string(value);
}

/* Takes a string nzpir handed over, frees it. */
inline std::string take(char *s) {
    std::unique_ptr<char, decltype(&nzpir_string_free)> owned(s, &nzpir_string_free);
    return copy(s);
}

}  // namespace detail

/* Whether `ird` is a valid IRD number (8 or 9 digits, dashes and spaces
 * allowed, in IR's range, with a right check digit). */
inline bool is_valid_ird(std::string_view ird) {
    if (ird.find('\0') != std::string_view::npos) return false;
    return nzpir_ird_validate(std::string(ird).c_str(), nullptr);
}

/* The IRD number in IR's 9-digit wire form ("049091850"); throws Error
 * (invalid_input, with the rule broken) when it is not valid. */
inline std::string normalise_ird(std::string_view ird) {
    const std::string in = detail::c_str(ird, "ird");
    char buf[NZPIR_IRD_BUFFER_LEN];
    nzpir_error *err = nullptr;
    detail::check(nzpir_ird_normalise(in.c_str(), buf, sizeof buf, &err), &err);
    return std::string(buf);
}

/* What a lookup found: a suggested rate, or that IR has none. */
class Outcome {
  public:
    explicit Outcome(nzpir_outcome *handle) noexcept : handle_(handle) {}
    Outcome(Outcome &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Outcome &operator=(Outcome &&other) noexcept {
        if (this != &other) {
            nzpir_outcome_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Outcome(const Outcome &) = delete;
    Outcome &operator=(const Outcome &) = delete;
    ~Outcome() { nzpir_outcome_free(handle_); }

    /* IR has no suggested PIR for the investor. */
    bool not_found() const noexcept { return nzpir_outcome_is_not_found(handle_); }
    /* The rate as IR wrote it ("28", "10.5"), if there is one. */
    std::optional<std::string> rate() const {
        const char *r = nzpir_outcome_rate(handle_);
        return r ? std::optional<std::string>(r) : std::nullopt;
    }
    /* The rate in hundredths of a percent (2800 for 28 %), if there is one. */
    std::optional<std::uint32_t> rate_hundredths() const noexcept {
        std::uint32_t h = 0;
        return nzpir_outcome_rate_hundredths(handle_, &h) ? std::optional<std::uint32_t>(h)
                                                          : std::nullopt;
    }
    /* The investor's IRD number, as IR answered (personal data: do not log). */
    std::string ird() const { return detail::copy(nzpir_outcome_ird(handle_)); }
    /* The PIE's IRD number, if the request named one. */
    std::optional<std::string> pie_ird() const {
        const char *p = nzpir_outcome_pie_ird(handle_);
        return p ? std::optional<std::string>(p) : std::nullopt;
    }
    /* The whole outcome as JSON. */
    std::string json() const { return detail::copy(nzpir_outcome_json(handle_)); }

    const nzpir_outcome *native_handle() const noexcept { return handle_; }

  private:
    nzpir_outcome *handle_;
};

/* Where an OAuth client keeps its tokens (see nzpir_token_store in nzpir.h):
 * load() returns the bytes save() was last given, or std::nullopt when
 * nothing is stored yet; save() stores them durably before returning. An
 * exception from any of them fails the nzpir call (kind "token_store"); it
 * never crosses into the library. All are called on the thread of the nzpir
 * call.
 *
 * A store that several processes share overrides lock() and unlock() to take
 * and release its lock across them (flock on a lock file, a database
 * advisory lock): nzpir holds it around every load-refresh-save, so that no
 * process sends a refresh token another has spent (IR then revokes the whole
 * grant). The defaults take no lock, which is right for one process. */
class TokenStore {
  public:
    virtual ~TokenStore() = default;
    virtual std::optional<std::string> load() = 0;
    virtual void save(std::string_view tokens) = 0;
    virtual void lock() {}
    virtual void unlock() noexcept {}
};

/* The three values that start an authorisation. Secrets: keep them only
 * until nzpir::Client::oauth_exchange. */
struct Authorization {
    std::string url;
    std::string state;
    std::string code_verifier;
};

/* A client of IR's PIR gateway. Thread-safe: share one between threads. */
class Client {
  public:
    /* From configuration JSON (the keys of nzpir.toml). */
    static Client from_json(std::string_view config_json) {
        const std::string json = detail::c_str(config_json, "config_json");
        nzpir_client *c = nullptr;
        nzpir_error *err = nullptr;
        detail::check(nzpir_client_new_from_json(json.c_str(), &c, &err), &err);
        return Client(c, nullptr);
    }

    /* From a configuration file (TOML or JSON). */
    static Client from_file(std::string_view path) {
        const std::string p = detail::c_str(path, "path");
        nzpir_client *c = nullptr;
        nzpir_error *err = nullptr;
        detail::check(nzpir_client_new_from_file(p.c_str(), &c, &err), &err);
        return Client(c, nullptr);
    }

    /* An OAuth client whose tokens live in `store` (kept alive by the client). */
    static Client with_token_store(std::string_view config_json, std::shared_ptr<TokenStore> store) {
        if (!store) {
            throw Error(NZPIR_STATUS_NULL_ARGUMENT, "null_argument", "argument `store` is null");
        }
        const std::string json = detail::c_str(config_json, "config_json");
        nzpir_token_store c_store{store.get(), &Client::load_tokens, &Client::save_tokens};
        nzpir_token_store_lock c_lock{&Client::lock_store, &Client::unlock_store};
        nzpir_client *c = nullptr;
        nzpir_error *err = nullptr;
        detail::check(
            nzpir_client_new_with_locked_token_store(json.c_str(), &c_store, &c_lock, &c, &err),
            &err);
        return Client(c, std::move(store));
    }

    Client(Client &&other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)), store_(std::move(other.store_)) {}
    Client &operator=(Client &&other) noexcept {
        if (this != &other) {
            nzpir_client_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
            store_ = std::move(other.store_);
        }
        return *this;
    }
    Client(const Client &) = delete;
    Client &operator=(const Client &) = delete;
    ~Client() { nzpir_client_free(handle_); }

    /* One lookup from IR's request JSON ({"IRD": "...", "PieIRD": "...", ...}). */
    Outcome lookup_json(std::string_view request_json) const {
        const std::string json = detail::c_str(request_json, "request_json");
        nzpir_outcome *o = nullptr;
        nzpir_error *err = nullptr;
        detail::check(nzpir_client_lookup(handle_, json.c_str(), &o, &err), &err);
        return Outcome(o);
    }

    /* One lookup by IRD number, for the PIE `pie_ird` when not empty. The
     * numbers are validated and normalised first (Error, invalid_input). */
    Outcome lookup(std::string_view ird, std::string_view pie_ird = {}) const {
        std::string request = "{\"IRD\":\"" + normalise_ird(ird) + "\"";
        if (!pie_ird.empty()) request += ",\"PieIRD\":\"" + normalise_ird(pie_ird) + "\"";
        request += "}";
        return lookup_json(request);
    }

    /* Throws when the client cannot be used as configured (e.g. OAuth with
     * no tokens yet); returns when it can. */
    void status() const {
        nzpir_error *err = nullptr;
        detail::check(nzpir_client_status(handle_, &err), &err);
    }

    /* OAuth: a fresh state and PKCE verifier and the URL to send the
     * person's browser to. */
    Authorization oauth_authorization_url() const {
        char *url = nullptr, *state = nullptr, *verifier = nullptr;
        nzpir_error *err = nullptr;
        detail::check(nzpir_oauth_authorization_url(handle_, &url, &state, &verifier, &err), &err);
        Authorization a;
        a.url = detail::take(url);
        a.state = detail::take(state);
        a.code_verifier = detail::take(verifier);
        return a;
    }

    /* OAuth: the redirect the browser came back with, for this state and verifier. */
    void oauth_exchange(std::string_view redirect_url, std::string_view state,
                        std::string_view code_verifier) const {
        const std::string u = detail::c_str(redirect_url, "redirect_url");
        const std::string s = detail::c_str(state, "state");
        const std::string v = detail::c_str(code_verifier, "code_verifier");
        nzpir_error *err = nullptr;
        detail::check(nzpir_oauth_exchange(handle_, u.c_str(), s.c_str(), v.c_str(), &err), &err);
    }

    /* OAuth: a new token set now. */
    void oauth_refresh() const {
        nzpir_error *err = nullptr;
        detail::check(nzpir_oauth_refresh(handle_, &err), &err);
    }

    const nzpir_client *native_handle() const noexcept { return handle_; }

  private:
    Client(nzpir_client *handle, std::shared_ptr<TokenStore> store) noexcept
        : handle_(handle), store_(std::move(store)) {}

    static int load_tokens(void *ctx, char *buf, std::size_t buf_len, std::size_t *len_out) noexcept {
        try {
            std::optional<std::string> tokens = static_cast<TokenStore *>(ctx)->load();
            if (!tokens) return NZPIR_TOKEN_STORE_EMPTY;
            if (tokens->size() > buf_len) return -1;
            std::memcpy(buf, tokens->data(), tokens->size());
            *len_out = tokens->size();
            return NZPIR_TOKEN_STORE_OK;
        } catch (...) {
            return -1;
        }
    }

    static int lock_store(void *ctx) noexcept {
        try {
            static_cast<TokenStore *>(ctx)->lock();
            return NZPIR_TOKEN_STORE_OK;
        } catch (...) {
            return -1;
        }
    }

    static void unlock_store(void *ctx) noexcept { static_cast<TokenStore *>(ctx)->unlock(); }

    static int save_tokens(void *ctx, const char *data, std::size_t len) noexcept {
        try {
            static_cast<TokenStore *>(ctx)->save(std::string_view(data, len));
            return NZPIR_TOKEN_STORE_OK;
        } catch (...) {
            return -1;
        }
    }

    nzpir_client *handle_;
    std::shared_ptr<TokenStore> store_;
};

}  // namespace nzpir

#endif /* NZPIR_HPP */
