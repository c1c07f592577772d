/*
 * The secrets audit of the C ABI: lookups (M2M JWT RS256 and ES256, a
 * startLogon with a person's name, date of birth and address, OAuth with a
 * host token store and a rotation, a static bearer token) and error paths
 * (strict mode's codes, 5xx, PIR150, a dropped connection, a broken body, a
 * timeout, TLS, a closed port, local validation, request JSON, configuration
 * and token store errors) with this process's stdout and stderr redirected
 * to files. libnzpir has no logging switch (it logs nothing), so the most
 * verbose it can be is what it writes by itself, plus RUST_LOG=trace and
 * RUST_BACKTRACE=full in its environment in case anything inside reads them.
 *
 * Every error's kind, message and field texts, and everything written to
 * stdout and stderr, are then searched for the secrets actually used: the
 * base64 lines of the sandbox's private keys, the OAuth client secrets, the
 * access and refresh tokens the store was handed, the authorisation state
 * and PKCE verifier, any JWT ("eyJ"), every IRD number in 9-digit, 8-digit
 * and dashed forms, and the names and dates of birth sent.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define PIE_S "125000002"
#define PIE_T "130000002"
#define MAX_SECRETS 512

static char *secrets[MAX_SECRETS];
static const char *secret_what[MAX_SECRETS];
static int n_secrets;
static buf_t texts;   /* every error text, one per line */
static int n_errors;

static void secret(const char *what, const char *value, size_t len) {
    if (len == 0 || n_secrets >= MAX_SECRETS) {
        CHECK(len > 0 && n_secrets < MAX_SECRETS);
        return;
    }
    char *s = malloc(len + 1);
    if (s == NULL) {
        exit(2);
    }
    memcpy(s, value, len);
    s[len] = '\0';
    secrets[n_secrets] = s;
    secret_what[n_secrets] = what;
    n_secrets++;
}

static void secret_str(const char *what, const char *value) {
    secret(what, value, strlen(value));
}

/* An IRD number in 9-digit, dashed and (when it has one) 8-digit forms. */
static void ird(const char *nine) {
    char b[16];
    secret_str("IRD number", nine);
    snprintf(b, sizeof b, "%.3s-%.3s-%.3s", nine, nine + 3, nine + 6);
    secret_str("IRD number (dashed)", b);
    if (nine[0] == '0') {
        secret_str("IRD number (8 digits)", nine + 1);
        snprintf(b, sizeof b, "%.2s-%.3s-%.3s", nine + 1, nine + 3, nine + 6);
        secret_str("IRD number (dashed)", b);
    }
}

/* The base64 lines (16 characters or more) of a PEM private key file. */
static void key_file(const char *path) {
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f == NULL) {
        return;
    }
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        size_t len = strcspn(line, "\r\n");
        if (len >= 16 && strncmp(line, "-----", 5) != 0) {
            secret("private key line", line, len);
            n++;
        }
    }
    fclose(f);
    CHECK(n > 0);
}

/* The string value of "name":"..." in a token store's JSON. */
static void token_from(const char *json, const char *name, const char *what) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\":\"", name);
    const char *p = strstr(json, key);
    CHECK(p != NULL);
    if (p == NULL) {
        return;
    }
    p += strlen(key);
    const char *end = strchr(p, '"');
    CHECK(end != NULL && end > p);
    if (end != NULL) {
        secret(what, p, (size_t)(end - p));
    }
}

/* Keeps an error's texts, frees it. */
static void keep(nzpir_error *err) {
    if (err == NULL) {
        return;
    }
    n_errors++;
    buf_add(&texts, nzpir_error_kind(err));
    buf_add(&texts, ": ");
    buf_add(&texts, nzpir_error_message(err));
    buf_add(&texts, "\n");
    for (size_t i = 0; i < nzpir_error_field_count(err); i++) {
        buf_add(&texts, nzpir_error_field_name(err, i));
        buf_add(&texts, " ");
        buf_add(&texts, nzpir_error_field_rule(err, i));
        buf_add(&texts, " ");
        buf_add(&texts, nzpir_error_field_message(err, i));
        buf_add(&texts, "\n");
    }
    nzpir_error_free(err);
}

static nzpir_client *client_json(const char *json, nzpir_status expected) {
    nzpir_client *client = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_client_new_from_json(json, &client, &err);
    CHECK(s == expected);
    keep(err);
    return client;
}

/* A lookup that must end with `expected`; keeps the error. */
static void lookup(const nzpir_client *client, const char *request, nzpir_status expected) {
    nzpir_outcome *outcome = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_client_lookup(client, request, &outcome, &err);
    if (s != expected) {
        /* Only the status: the message is checked below. */
        printf("lookup: status %s, expected %s\n", nzpir_status_name(s),
               nzpir_status_name(expected));
    }
    CHECK(s == expected);
    nzpir_outcome_free(outcome);
    keep(err);
}

static char *jwt_auth(const char *cert, const char *key, const char *alg, const char *logon) {
    buf_t b = {0};
    buf_add(&b, "{\"type\":\"jwt\",\"issuer\":\"C audit\",\"alg\":");
    buf_add_json_string(&b, alg);
    buf_add(&b, ",\"cert\":");
    buf_add_json_string(&b, cert);
    buf_add(&b, ",\"key\":");
    buf_add_json_string(&b, key);
    if (logon != NULL) {
        buf_add(&b, ",\"start_logon\":");
        buf_add_json_string(&b, logon);
    }
    buf_add(&b, "}");
    return b.data;
}

static nzpir_client *sandbox_client_with(const char *auth, const char *extra) {
    char *json = sandbox_config(env("NZPIR_SANDBOX_URL"), env("NZPIR_SANDBOX_CLIENT_CERT"),
                                env("NZPIR_SANDBOX_CLIENT_KEY"), 1, auth, extra);
    nzpir_client *c = client_json(json, NZPIR_STATUS_OK);
    free(json);
    return c;
}

/* ---- A host token store that can be told to fail or to hand back junk. */
struct store {
    char data[NZPIR_TOKEN_STORE_MAX_BYTES];
    size_t len;
    int has;
    int fail_save;
    const char *junk;
};

static int store_load(void *ctx, char *buf, size_t buf_len, size_t *len_out) {
    struct store *s = ctx;
    const char *src = s->junk ? s->junk : (s->has ? s->data : NULL);
    if (src == NULL) {
        return NZPIR_TOKEN_STORE_EMPTY;
    }
    size_t len = strlen(src);
    if (len > buf_len) {
        return 8;
    }
    memcpy(buf, src, len);
    *len_out = len;
    return NZPIR_TOKEN_STORE_OK;
}

static int store_save(void *ctx, const char *data, size_t len) {
    struct store *s = ctx;
    if (s->fail_save || len >= sizeof s->data) {
        return 9;
    }
    memcpy(s->data, data, len);
    s->data[len] = '\0';
    s->len = len;
    s->has = 1;
    return NZPIR_TOKEN_STORE_OK;
}

static char *oauth_json(const char *client_id) {
    buf_t auth = {0};
    char secret_buf[128];
    snprintf(secret_buf, sizeof secret_buf, "%s-secret", client_id);
    secret_str("client secret", secret_buf);
    buf_add(&auth, "{\"type\":\"oauth\",\"client_id\":");
    buf_add_json_string(&auth, client_id);
    buf_add(&auth, ",\"client_secret\":");
    buf_add_json_string(&auth, secret_buf);
    buf_add(&auth, ",\"redirect_uri\":\"http://127.0.0.1/callback\",\"endpoint\":");
    buf_add_json_string(&auth, env("NZPIR_SANDBOX_OAUTH_URL"));
    buf_add(&auth, "}");
    char *json = sandbox_config(env("NZPIR_SANDBOX_URL"), env("NZPIR_SANDBOX_CLIENT_CERT"),
                                env("NZPIR_SANDBOX_CLIENT_KEY"), 1, auth.data,
                                ",\"max_retries\":0");
    buf_free(&auth);
    return json;
}

static nzpir_client *oauth_client(const char *client_id, struct store *store) {
    char *json = oauth_json(client_id);
    nzpir_token_store callbacks = {store, store_load, store_save};
    nzpir_client *client = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_client_new_with_token_store(json, &callbacks, &client, &err);
    CHECK(s == NZPIR_STATUS_OK);
    keep(err);
    free(json);
    return client;
}

/* Authorises `client` (its store gets the tokens); returns 1 on success. */
static int authorise(nzpir_client *client) {
    char *url = NULL, *state = NULL, *verifier = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_oauth_authorization_url(client, &url, &state, &verifier, &err);
    CHECK(s == NZPIR_STATUS_OK);
    keep(err);
    if (s != NZPIR_STATUS_OK) {
        return 0;
    }
    secret_str("OAuth state", state);
    secret_str("PKCE verifier", verifier);
    char *redirect = browser(url);
    CHECK(redirect != NULL);
    int ok = 0;
    if (redirect != NULL) {
        const char *code = strstr(redirect, "code=");
        if (code != NULL) {
            code += 5;
            secret("authorisation code", code, strcspn(code, "&"));
        }
        /* A forged state first, then the real one. */
        s = nzpir_oauth_exchange(client, redirect, "forged-state", verifier, &err);
        CHECK(s != NZPIR_STATUS_OK);
        keep(err);
        err = NULL;
        s = nzpir_oauth_exchange(client, redirect, state, verifier, &err);
        CHECK(s == NZPIR_STATUS_OK);
        keep(err);
        ok = s == NZPIR_STATUS_OK;
    }
    free(redirect);
    nzpir_string_free(url);
    nzpir_string_free(state);
    nzpir_string_free(verifier);
    return ok;
}

static void fault(const nzpir_client *client, const char *spec, nzpir_status expected) {
    CHECK(sandbox_admin("DELETE", "/faults", NULL) == 0);
    CHECK(sandbox_admin("POST", "/faults", spec) == 0);
    lookup(client, "{\"IRD\":\"139276310\",\"PieIRD\":\"" PIE_S "\"}", expected);
    CHECK(sandbox_admin("DELETE", "/faults", NULL) == 0);
}

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

static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    buf_t b = {0};
    buf_add(&b, "");
    if (f == NULL) {
        return b.data;
    }
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk - 1, f)) > 0) {
        chunk[n] = '\0';
        buf_add(&b, chunk);
    }
    fclose(f);
    return b.data;
}

static void audit(void) {
    nzpir_client *client;
    nzpir_error *err = NULL;

    /* ---- Successful lookups: the ready nzpir.toml (RS256), ES256, a
     * startLogon with a person's details. */
    nzpir_status s = nzpir_client_new_from_file(env("NZPIR_SANDBOX_CONFIG"), &client, &err);
    CHECK(s == NZPIR_STATUS_OK);
    keep(err);
    err = NULL;
    if (s != NZPIR_STATUS_OK) {
        return;
    }
    nzpir_client *ready = client;
    lookup(ready, "{\"IRD\":\"139276507\",\"PieIRD\":\"" PIE_S "\"}", NZPIR_STATUS_OK);
    lookup(ready, "{\"IRD\":\"049091850\",\"PieIRD\":\"" PIE_S "\"}", NZPIR_STATUS_OK);

    char *auth = jwt_auth(env("NZPIR_SANDBOX_JWT_EC_CERT"), env("NZPIR_SANDBOX_JWT_EC_KEY"),
                          env("NZPIR_SANDBOX_JWT_EC_ALG"), NULL);
    client = sandbox_client_with(auth, "");
    free(auth);
    lookup(client, "{\"IRD\":\"139276310\",\"PieIRD\":\"" PIE_S "\"}", NZPIR_STATUS_OK);
    nzpir_client_free(client);

    auth = jwt_auth(env("NZPIR_SANDBOX_JWT_RS256_CERT"), env("NZPIR_SANDBOX_JWT_RS256_KEY"),
                    "RS256", "tuatara.admin");
    client = sandbox_client_with(auth, "");
    free(auth);
    lookup(client,
           "{\"IRD\":\"139276329\",\"PieIRD\":\"" PIE_T "\",\"Name\":{\"FirstName\":\"Gary\","
           "\"LastName\":\"Allen\"},\"Dob\":\"1990-01-02\",\"Address\":{\"Street\":\"123 Ha "
           "Crescent\",\"City\":\"Auckland\",\"Country\":\"NZ\"}}",
           NZPIR_STATUS_OK);
    /* Refusals carrying personal data. */
    lookup(client, "{\"IRD\":\"139276507\",\"PieIRD\":\"" PIE_T "\",\"Dob\":\"1990-01-02\"}",
           NZPIR_STATUS_AUTHORISATION);
    nzpir_client_free(client);

    /* ---- Strict mode's refusals. */
    lookup(ready, "{\"IRD\":\"139276272\",\"PieIRD\":\"" PIE_S "\"}", NZPIR_STATUS_AUTHORISATION);
    lookup(ready, "{\"IRD\":\"139276272\",\"PieIRD\":\"" PIE_T "\"}", NZPIR_STATUS_AUTHORISATION);
    lookup(ready, "{\"IRD\":\"139276507\"}", NZPIR_STATUS_REJECTED);
    client = sandbox_client_with("{\"type\":\"none\"}", "");
    lookup(client, "{\"IRD\":\"139276507\",\"PieIRD\":\"" PIE_S "\"}",
           NZPIR_STATUS_AUTHENTICATION);
    nzpir_client_free(client);
    char *json = sandbox_config(env("NZPIR_SANDBOX_URL"),
                                env("NZPIR_SANDBOX_UNREGISTERED_CLIENT_CERT"),
                                env("NZPIR_SANDBOX_UNREGISTERED_CLIENT_KEY"), 1, NULL, "");
    client = client_json(json, NZPIR_STATUS_OK);
    free(json);
    lookup(client, "{\"IRD\":\"139276507\",\"PieIRD\":\"" PIE_S "\"}",
           NZPIR_STATUS_AUTHENTICATION);
    nzpir_client_free(client);
    secret_str("unknown bearer", "a-bearer-token-nobody-issued-QxZv");
    client = sandbox_client_with(
        "{\"type\":\"bearer\",\"token\":\"a-bearer-token-nobody-issued-QxZv\"}", "");
    lookup(client, "{\"IRD\":\"139276507\",\"PieIRD\":\"" PIE_S "\"}",
           NZPIR_STATUS_AUTHENTICATION);
    nzpir_client_free(client);

    /* ---- Local validation and request JSON: nothing sent, nothing quoted. */
    lookup(ready,
           "{\"IRD\":\"136410133\",\"PieIRD\":\"012345678\",\"Name\":{\"FirstName\":\"Wiremu\","
           "\"LastName\":\"Secretsurname\"},\"Dob\":\"1971-02-30\",\"Address\":{\"Street\":\"9 "
           "Hidden Road\",\"City\":\"Hamilton\",\"Country\":\"QQ\"}}",
           NZPIR_STATUS_INVALID_INPUT);
    lookup(ready, "{\"IRD\":139276507,\"PieIRD\":\"" PIE_S "\"}", NZPIR_STATUS_INVALID_INPUT);
    lookup(ready, "{\"IRD\":\"139276507\",\"Dob\":19900102}", NZPIR_STATUS_INVALID_INPUT);
    lookup(ready, "{\"IRD\":\"139276507\" \"PieIRD\":\"" PIE_S "\"}", NZPIR_STATUS_INVALID_INPUT);
    char normal[NZPIR_IRD_BUFFER_LEN];
    s = nzpir_ird_normalise("139-276-508", normal, sizeof normal, &err);
    CHECK(s == NZPIR_STATUS_INVALID_INPUT);
    keep(err);
    err = NULL;
    ird("139276508");

    /* ---- Faults, retried or not, and a timeout. */
    client = sandbox_client_with(NULL, ",\"max_retries\":1,\"retry_base_delay_secs\":0.01");
    fault(client, "{\"kind\":\"status\",\"status\":503}", NZPIR_STATUS_SERVER);
    fault(client, "{\"kind\":\"pir150\"}", NZPIR_STATUS_SERVER);
    fault(client, "{\"kind\":\"drop_after_read\"}", NZPIR_STATUS_TRANSPORT);
    fault(client, "{\"kind\":\"malformed_body\",\"times\":1}", NZPIR_STATUS_SERVER);
    nzpir_client_free(client);
    client = sandbox_client_with(NULL, ",\"max_retries\":0,\"timeout_secs\":2");
    fault(client, "{\"kind\":\"delay\",\"ms\":6000,\"times\":1}", NZPIR_STATUS_TIMEOUT);
    nzpir_client_free(client);

    /* ---- TLS and connection failures. */
    json = sandbox_config(env("NZPIR_SANDBOX_URL"), env("NZPIR_SANDBOX_CLIENT_CERT"),
                          env("NZPIR_SANDBOX_CLIENT_KEY"), 0, NULL, ",\"max_retries\":0");
    client = client_json(json, NZPIR_STATUS_OK);
    free(json);
    lookup(client, "{\"IRD\":\"139276507\",\"PieIRD\":\"" PIE_S "\"}", NZPIR_STATUS_TLS);
    nzpir_client_free(client);
    char url[64];
    snprintf(url, sizeof url, "https://127.0.0.1:%d", closed_port());
    json = sandbox_config(url, env("NZPIR_SANDBOX_CLIENT_CERT"), env("NZPIR_SANDBOX_CLIENT_KEY"), 1,
                          NULL, ",\"max_retries\":0");
    client = client_json(json, NZPIR_STATUS_OK);
    free(json);
    lookup(client, "{\"IRD\":\"139276507\",\"PieIRD\":\"" PIE_S "\"}", NZPIR_STATUS_TRANSPORT);
    nzpir_client_free(client);

    /* ---- Configuration errors next to secrets. */
    secret_str("configured secret", "config-secret-QxZvTkWm");
    client_json("{\"auth\":{\"type\":\"bearer\",\"token\":\"config-secret-QxZvTkWm\",\"x\":1}}",
                NZPIR_STATUS_CONFIG);
    client_json("{\"auth\":{\"type\":\"bearer\",\"token\":[\"config-secret-QxZvTkWm\"]}}",
                NZPIR_STATUS_CONFIG);
    client_json("{\"auth\":{\"type\":\"oauth\",\"client_secret\":\"config-secret-QxZvTkWm\"",
                NZPIR_STATUS_CONFIG);
    client_json("{\"endpoint\":\"config-secret-QxZvTkWm\"}", NZPIR_STATUS_CONFIG);
    /* A key that does not match its certificate, a certificate as a key. */
    json = sandbox_config(env("NZPIR_SANDBOX_URL"), env("NZPIR_SANDBOX_CLIENT_CERT"),
                          env("NZPIR_SANDBOX_JWT_RS256_KEY"), 1, NULL, "");
    client_json(json, NZPIR_STATUS_CONFIG);
    free(json);
    json = sandbox_config(env("NZPIR_SANDBOX_URL"), env("NZPIR_SANDBOX_CLIENT_CERT"),
                          env("NZPIR_SANDBOX_CLIENT_CERT"), 1, NULL, "");
    client_json(json, NZPIR_STATUS_CONFIG);
    free(json);
    /* A key pasted where its file's path belongs. */
    char *pasted = slurp(env("NZPIR_SANDBOX_CLIENT_KEY"));
    CHECK(contains(pasted, "PRIVATE KEY"));
    json = sandbox_config(env("NZPIR_SANDBOX_URL"), env("NZPIR_SANDBOX_CLIENT_CERT"), pasted, 1,
                          NULL, "");
    client_json(json, NZPIR_STATUS_CONFIG);
    free(json);
    free(pasted);
    auth = jwt_auth(env("NZPIR_SANDBOX_JWT_RS256_CERT"), env("NZPIR_SANDBOX_JWT_EC_KEY"), "RS256",
                    NULL);
    json = sandbox_config(env("NZPIR_SANDBOX_URL"), env("NZPIR_SANDBOX_CLIENT_CERT"),
                          env("NZPIR_SANDBOX_CLIENT_KEY"), 1, auth, "");
    client_json(json, NZPIR_STATUS_CONFIG);
    free(json);
    free(auth);

    /* ---- OAuth: code flow, lookups, a rotation, a static bearer from the
     * access token, a spent refresh token, and stores that fail. */
    static struct store store;
    nzpir_client *oauth = oauth_client("sandbox-app", &store);
    if (oauth != NULL && authorise(oauth)) {
        token_from(store.data, "access_token", "access token");
        token_from(store.data, "refresh_token", "refresh token");
        lookup(oauth, "{\"IRD\":\"139439976\"}", NZPIR_STATUS_OK);
        static char spent[NZPIR_TOKEN_STORE_MAX_BYTES];
        memcpy(spent, store.data, store.len + 1);
        s = nzpir_oauth_refresh(oauth, &err);
        CHECK(s == NZPIR_STATUS_OK);
        keep(err);
        err = NULL;
        int current = n_secrets;
        token_from(store.data, "access_token", "access token");
        token_from(store.data, "refresh_token", "refresh token");
        CHECK(n_secrets == current + 2);
        lookup(oauth, "{\"IRD\":\"139332754\"}", NZPIR_STATUS_OK);
        lookup(oauth, "{\"IRD\":\"139276507\",\"PieIRD\":\"" PIE_S "\"}",
               NZPIR_STATUS_AUTHORISATION);

        /* The access token as a static bearer. */
        const char *a = strstr(store.data, "\"access_token\":\"");
        if (a != NULL) {
            a += strlen("\"access_token\":\"");
            buf_t b = {0};
            buf_add(&b, "{\"type\":\"bearer\",\"token\":\"");
            buf_reserve(&b, strcspn(a, "\""));
            memcpy(b.data + b.len, a, strcspn(a, "\""));
            b.len += strcspn(a, "\"");
            b.data[b.len] = '\0';
            buf_add(&b, "\"}");
            client = sandbox_client_with(b.data, "");
            lookup(client, "{\"IRD\":\"139439976\"}", NZPIR_STATUS_OK);
            nzpir_client_free(client);
            buf_free(&b);
        }

        /* A store that fails to save: the refresh fails. */
        store.fail_save = 1;
        s = nzpir_oauth_refresh(oauth, &err);
        CHECK(s == NZPIR_STATUS_TOKEN_STORE);
        keep(err);
        err = NULL;
        store.fail_save = 0;

        /* Another client whose store holds the spent grant. */
        static struct store old;
        memcpy(old.data, spent, strlen(spent) + 1);
        old.len = strlen(spent);
        old.has = 1;
        nzpir_client *stale = oauth_client("sandbox-app", &old);
        s = nzpir_oauth_refresh(stale, &err);
        CHECK(s == NZPIR_STATUS_CONSENT_REQUIRED);
        keep(err);
        err = NULL;
        nzpir_client_free(stale);

        /* Stores that hand back junk with the tokens in it. */
        static char junk[NZPIR_TOKEN_STORE_MAX_BYTES * 2];
        static struct store bad;
        const char *junks[] = {"{\"version\":1,\"access_token\":\"%s\",\"expires_at\":\"%s\"}",
                               "{\"version\":1,\"access_token\":\"%s\",\"refresh_token\":\"%s\"",
                               "%s%s"};
        for (size_t i = 0; i < sizeof junks / sizeof junks[0]; i++) {
            /* The current access and refresh tokens. */
            snprintf(junk, sizeof junk, junks[i], secrets[current], secrets[current + 1]);
            bad.junk = junk;
            nzpir_client *c = oauth_client("sandbox-app", &bad);
            lookup(c, "{\"IRD\":\"139439976\"}", NZPIR_STATUS_TOKEN_STORE);
            nzpir_client_free(c);
        }
    }
    nzpir_client_free(oauth);

    /* An orphan logon's grant: EV1040. */
    static struct store orphan_store;
    nzpir_client *orphan = oauth_client("sandbox-orphan", &orphan_store);
    if (orphan != NULL && authorise(orphan)) {
        token_from(orphan_store.data, "access_token", "access token");
        lookup(orphan, "{\"IRD\":\"139439976\"}", NZPIR_STATUS_AUTHORISATION);
    }
    nzpir_client_free(orphan);
    nzpir_client_free(ready);
}

int main(void) {
    setenv("RUST_LOG", "trace", 1);
    setenv("RUST_BACKTRACE", "full", 1);
    const char *dir = env("NZPIR_TEST_TMPDIR");
    char out_path[1024], err_path[1024];
    snprintf(out_path, sizeof out_path, "%s/secrets-stdout.txt", dir);
    snprintf(err_path, sizeof err_path, "%s/secrets-stderr.txt", dir);

    key_file(env("NZPIR_SANDBOX_CLIENT_KEY"));
    key_file(env("NZPIR_SANDBOX_UNREGISTERED_CLIENT_KEY"));
    key_file(env("NZPIR_SANDBOX_JWT_RS256_KEY"));
    key_file(env("NZPIR_SANDBOX_JWT_EC_KEY"));
    const char *irds[] = {"125000002", "130000002", "139276507", "049091850", "139276310",
                          "139276329", "139276272", "139439976", "139332754", "136410133",
                          "012345678"};
    for (size_t i = 0; i < sizeof irds / sizeof irds[0]; i++) {
        ird(irds[i]);
    }
    const char *people[] = {"Gary", "Allen", "1990-01-02", "123 Ha Crescent",
                            "Wiremu", "Secretsurname", "1971-02-30", "9 Hidden Road"};
    for (size_t i = 0; i < sizeof people / sizeof people[0]; i++) {
        secret_str("personal data", people[i]);
    }
    buf_add(&texts, "");
    CHECK(sandbox_admin("DELETE", "/quotas", NULL) == 0);

    /* Capture what the library writes to stdout and stderr. */
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(saved_out >= 0 && saved_err >= 0 && fo >= 0 && fe >= 0);
    dup2(fo, 1);
    dup2(fe, 2);
    close(fo);
    close(fe);
    fprintf(stderr, "capture marker\n");

    audit();

    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    CHECK(sandbox_admin("DELETE", "/faults", NULL) == 0);
    CHECK(sandbox_admin("DELETE", "/quotas", NULL) == 0);

    char *captured_out = slurp(out_path);
    char *captured_err = slurp(err_path);
    /* Not vacuous: the capture worked, errors came back, tokens were seen. */
    CHECK(contains(captured_err, "capture marker"));
    CHECK(n_errors >= 30);
    CHECK(n_secrets >= 60);
    CHECK(contains(texts.data, "EV1043"));
    CHECK(contains(texts.data, "token_store"));
    CHECK(contains(texts.data, "consent_required"));

    int leaks = 0;
    const char *where[] = {"error texts", "stdout", "stderr"};
    const char *what[] = {texts.data, captured_out, captured_err};
    for (int w = 0; w < 3; w++) {
        for (int i = 0; i < n_secrets; i++) {
            if (contains(what[w], secrets[i])) {
                fprintf(stderr, "%s contain a %s: %s\n", where[w], secret_what[i], secrets[i]);
                leaks++;
            }
        }
        if (contains(what[w], "eyJ")) {
            fprintf(stderr, "%s contain something JWT-shaped\n", where[w]);
            leaks++;
        }
    }
    if (leaks > 0 || checks_failed > 0) {
        fprintf(stderr, "--- error texts\n%s--- stdout\n%s--- stderr\n%s", texts.data,
                captured_out, captured_err);
    }
    CHECK(leaks == 0);
    printf("test_secrets: %d errors and captured output checked for %d secrets\n", n_errors,
           n_secrets);

    free(captured_out);
    free(captured_err);
    buf_free(&texts);
    for (int i = 0; i < n_secrets; i++) {
        free(secrets[i]);
    }
    return finish("test_secrets");
}
