/*
 * OAuth against the sandbox's OAuth server, with the tokens in a host token
 * store (these callbacks): the authorisation URL, the browser's trip (curl
 * follows IR's redirect), the code exchange (saved before use), lookups with
 * the bearer token, a forced refresh that rotates the stored refresh token, a
 * second client that starts from the store, a spent refresh token and a spent
 * code (consent required), a forged state, a declined consent, stores that
 * fail to save, fail to load, or hand back garbage, and processes that share
 * one file store under the host's lock.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

struct store {
    char data[NZPIR_TOKEN_STORE_MAX_BYTES];
    size_t len;
    int has;
    int loads;
    int saves;
    int fail_load;
    int fail_save;
    int garbage;
};

static int store_load(void *ctx, char *buf, size_t buf_len, size_t *len_out) {
    struct store *s = ctx;
    s->loads++;
    if (s->fail_load) {
        return 7;
    }
    if (s->garbage) {
        memcpy(buf, "not json", 8);
        *len_out = 8;
        return NZPIR_TOKEN_STORE_OK;
    }
    if (!s->has) {
        return NZPIR_TOKEN_STORE_EMPTY;
    }
    if (s->len > buf_len) {
        return 8;
    }
    memcpy(buf, s->data, s->len);
    *len_out = s->len;
    return NZPIR_TOKEN_STORE_OK;
}

static int store_save(void *ctx, const char *data, size_t len) {
    struct store *s = ctx;
    s->saves++;
    if (s->fail_save || len >= sizeof s->data || data[len] != '\0') {
        return 9;
    }
    memcpy(s->data, data, len + 1);
    s->len = len;
    s->has = 1;
    return NZPIR_TOKEN_STORE_OK;
}

static char *oauth_config(const char *client_id) {
    buf_t auth = {0};
    char secret[128];
    snprintf(secret, sizeof secret, "%s-secret", client_id);
    buf_add(&auth, "{\"type\":\"oauth\",\"client_id\":");
    buf_add_json_string(&auth, client_id);
    buf_add(&auth, ",\"client_secret\":");
    buf_add_json_string(&auth, secret);
    buf_add(&auth, ",\"redirect_uri\":\"http://127.0.0.1/callback\",\"endpoint\":");
    buf_add_json_string(&auth, env("NZPIR_SANDBOX_OAUTH_URL"));
    buf_add(&auth, "}");
    char *json = sandbox_config(env("NZPIR_SANDBOX_URL"), env("NZPIR_SANDBOX_CLIENT_CERT"),
                                env("NZPIR_SANDBOX_CLIENT_KEY"), 1, auth.data, ",\"max_retries\":0");
    buf_free(&auth);
    return json;
}

static nzpir_client *oauth_client(const char *client_id, struct store *store) {
    char *json = oauth_config(client_id);
    nzpir_token_store callbacks = {store, store_load, store_save};
    nzpir_client *client = NULL;
    nzpir_error *err = NULL;
    CHECK_STATUS(nzpir_client_new_with_token_store(json, &callbacks, &client, &err), err,
                 NZPIR_STATUS_OK);
    free(json);
    return client;
}

struct authorisation {
    char *url;
    char *state;
    char *verifier;
    char *redirect;
};

static struct authorisation authorise(nzpir_client *client) {
    struct authorisation a = {0};
    nzpir_error *err = NULL;
    CHECK_STATUS(
        nzpir_oauth_authorization_request(client, &a.url, &a.state, &a.verifier, &err), err,
        NZPIR_STATUS_OK);
    if (a.url != NULL) {
        CHECK(contains(a.url, env("NZPIR_SANDBOX_OAUTH_URL")));
        CHECK(contains(a.url, "/gateway3/oauth/authorize?"));
        CHECK(contains(a.url, "scope=MYIR.Services"));
        a.redirect = browser(a.url);
        CHECK(a.redirect != NULL);
        CHECK(contains(a.redirect, "http://127.0.0.1/callback?"));
        CHECK(contains(a.redirect, a.state));
    }
    return a;
}

static void forget(struct authorisation *a) {
    nzpir_string_free(a->url);
    nzpir_string_free(a->state);
    nzpir_string_free(a->verifier);
    free(a->redirect);
}

static void lookup_rate(nzpir_client *client, nzpir_status expected) {
    /* ruru.agent (sandbox-app's consenting logon) asks about its client
     * without PieIRD: 10.5. */
    nzpir_outcome *outcome = NULL;
    nzpir_error *err = NULL;
    nzpir_status s = nzpir_client_lookup(client, "{\"IRD\":\"139439976\"}", &outcome, &err);
    if (s != expected) {
        fprintf(stderr, "lookup: %s\n", nzpir_error_message(err));
    }
    CHECK_STATUS(s, err, expected);
    if (s == NZPIR_STATUS_OK) {
        CHECK_STR(nzpir_outcome_rate(outcome), "10.5");
    }
    nzpir_outcome_free(outcome);
}

static void code_flow_and_rotation(void) {
    static struct store store;
    nzpir_client *client = oauth_client("sandbox-app", &store);
    nzpir_error *err = NULL;

    /* No grant yet. */
    lookup_rate(client, NZPIR_STATUS_CONSENT_REQUIRED);
    CHECK(store.loads >= 1 && store.saves == 0);

    struct authorisation a = authorise(client);
    /* A forged state is refused before IR is called. */
    nzpir_status s = nzpir_oauth_exchange(client, a.redirect, "forged-state", a.verifier, &err);
    CHECK_STATUS(s, err, NZPIR_STATUS_AUTHENTICATION);
    CHECK(store.saves == 0);

    CHECK_STATUS(
        nzpir_oauth_complete_authorization(client, a.redirect, a.state, a.verifier, &err), err,
        NZPIR_STATUS_OK);
    CHECK(store.saves == 1);
    CHECK(contains(store.data, "refresh_token"));
    lookup_rate(client, NZPIR_STATUS_OK);
    CHECK(store.saves == 1);

    /* The code is single-use. */
    s = nzpir_oauth_exchange(client, a.redirect, a.state, a.verifier, &err);
    CHECK(nzpir_error_http_status(err) == 400 || nzpir_error_http_status(err) == 401);
    CHECK_STATUS(s, err, NZPIR_STATUS_CONSENT_REQUIRED);
    forget(&a);

    /* A forced refresh rotates the refresh token, saved before use. */
    static char before[NZPIR_TOKEN_STORE_MAX_BYTES];
    memcpy(before, store.data, store.len + 1);
    CHECK_STATUS(nzpir_oauth_refresh(client, &err), err, NZPIR_STATUS_OK);
    CHECK(store.saves == 2);
    CHECK(strcmp(before, store.data) != 0);
    lookup_rate(client, NZPIR_STATUS_OK);

    /* Another client (another process, say) starts from the store. */
    static struct store copy;
    memcpy(copy.data, store.data, store.len + 1);
    copy.len = store.len;
    copy.has = 1;
    nzpir_client *second = oauth_client("sandbox-app", &copy);
    lookup_rate(second, NZPIR_STATUS_OK);
    CHECK(copy.loads == 1 && copy.saves == 0);
    nzpir_client_free(second);

    /* The first refresh token is spent: refreshing with it needs consent. */
    static struct store stale;
    memcpy(stale.data, before, strlen(before) + 1);
    stale.len = strlen(before);
    stale.has = 1;
    nzpir_client *third = oauth_client("sandbox-app", &stale);
    s = nzpir_oauth_refresh(third, &err);
    CHECK(nzpir_error_http_status(err) == 401);
    CHECK_STATUS(s, err, NZPIR_STATUS_CONSENT_REQUIRED);
    CHECK(stale.saves == 0);
    nzpir_client_free(third);

    nzpir_client_free(client);
}

static void declined_consent(void) {
    static struct store store;
    nzpir_client *client = oauth_client("sandbox-no-consent", &store);
    struct authorisation a = authorise(client);
    CHECK(contains(a.redirect, "error=access_denied"));
    nzpir_error *err = NULL;
    CHECK_STATUS(nzpir_oauth_exchange(client, a.redirect, a.state, a.verifier, &err), err,
                 NZPIR_STATUS_CONSENT_REQUIRED);
    CHECK(store.saves == 0);
    forget(&a);
    nzpir_client_free(client);
}

static void failing_stores(void) {
    nzpir_error *err = NULL;

    /* Save fails: the new tokens are not used. */
    static struct store no_save;
    no_save.fail_save = 1;
    nzpir_client *client = oauth_client("sandbox-app", &no_save);
    struct authorisation a = authorise(client);
    nzpir_status s = nzpir_oauth_exchange(client, a.redirect, a.state, a.verifier, &err);
    CHECK(contains(nzpir_error_message(err), "save"));
    CHECK_STATUS(s, err, NZPIR_STATUS_TOKEN_STORE);
    CHECK(no_save.saves == 1);
    lookup_rate(client, NZPIR_STATUS_CONSENT_REQUIRED);
    forget(&a);
    nzpir_client_free(client);

    /* Load fails. */
    static struct store no_load;
    no_load.fail_load = 1;
    client = oauth_client("sandbox-app", &no_load);
    lookup_rate(client, NZPIR_STATUS_TOKEN_STORE);
    CHECK_STATUS(nzpir_oauth_refresh(client, &err), err, NZPIR_STATUS_TOKEN_STORE);
    nzpir_client_free(client);

    /* Load hands back something nzpir never saved. */
    static struct store garbage;
    garbage.garbage = 1;
    client = oauth_client("sandbox-app", &garbage);
    lookup_rate(client, NZPIR_STATUS_TOKEN_STORE);
    nzpir_client_free(client);
}

/* ---- A store in a file that several processes share, with a flock(2) lock. */

struct file_store {
    char path[512];
    char lock_path[520];
    int lock_fd;
    int held;
    int locks;
    int saves;
    int saves_unlocked;
    int fail_lock;
};

static int file_load(void *ctx, char *buf, size_t buf_len, size_t *len_out) {
    struct file_store *s = ctx;
    FILE *f = fopen(s->path, "rb");
    if (f == NULL) {
        return NZPIR_TOKEN_STORE_EMPTY;
    }
    size_t n = fread(buf, 1, buf_len, f);
    int bad = ferror(f) || n == buf_len;
    fclose(f);
    if (bad) {
        return 8;
    }
    *len_out = n;
    return NZPIR_TOKEN_STORE_OK;
}

static int file_save(void *ctx, const char *data, size_t len) {
    struct file_store *s = ctx;
    s->saves++;
    if (!s->held) {
        s->saves_unlocked++;
    }
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.%ld", s->path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_NOFOLLOW, 0600);
    if (fd < 0) {
        return 9;
    }
    int ok = write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, s->path) != 0) {
        unlink(tmp);
        return 9;
    }
    return NZPIR_TOKEN_STORE_OK;
}

static int file_lock(void *ctx) {
    struct file_store *s = ctx;
    if (s->fail_lock) {
        return 11;
    }
    s->lock_fd = open(s->lock_path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
    if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX) != 0) {
        return 10;
    }
    s->held = 1;
    s->locks++;
    return NZPIR_TOKEN_STORE_OK;
}

static void file_unlock(void *ctx) {
    struct file_store *s = ctx;
    s->held = 0;
    flock(s->lock_fd, LOCK_UN);
    close(s->lock_fd);
    s->lock_fd = -1;
}

static nzpir_client *locked_client(struct file_store *store) {
    char *json = oauth_config("sandbox-app");
    nzpir_token_store callbacks = {store, file_load, file_save};
    nzpir_token_store_lock lock = {file_lock, file_unlock};
    nzpir_client *client = NULL;
    nzpir_error *err = NULL;
    CHECK_STATUS(nzpir_client_new_with_locked_token_store(json, &callbacks, &lock, &client, &err),
                 err, NZPIR_STATUS_OK);
    free(json);
    return client;
}

/* The sandbox's count of spent refresh tokens sent again. */
static long refresh_replays(void) { return sandbox_stat("refresh_replays"); }

#define PROCESSES 4
#define REFRESHES 4

/* Four processes, each refreshing four times at once on one file store: under
 * the host's lock each refresh starts from the latest stored refresh token,
 * so none is ever sent twice and the grant stays live. */
static void processes_share_a_locked_store(void) {
    static struct file_store store;
    /* The harness's folder for the files tests write (run.sh removes it). */
    char dir[256];
    int n = snprintf(dir, sizeof dir, "%s/locked-store", env("NZPIR_TEST_TMPDIR"));
    CHECK(n > 0 && (size_t)n < sizeof dir);
    CHECK(mkdir(dir, 0700) == 0);
    snprintf(store.path, sizeof store.path, "%s/tokens.json", dir);
    snprintf(store.lock_path, sizeof store.lock_path, "%s/tokens.json.lock", dir);
    store.lock_fd = -1;

    nzpir_client *client = locked_client(&store);
    nzpir_error *err = NULL;
    struct authorisation a = authorise(client);
    CHECK_STATUS(nzpir_oauth_exchange(client, a.redirect, a.state, a.verifier, &err), err,
                 NZPIR_STATUS_OK);
    forget(&a);
    CHECK(store.saves == 1 && store.saves_unlocked == 0 && store.locks >= 1 && !store.held);
    long replays_before = refresh_replays();
    CHECK(replays_before >= 0);
    nzpir_client_free(client);

    pid_t pids[PROCESSES];
    for (int i = 0; i < PROCESSES; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            struct file_store mine = store;
            mine.locks = mine.saves = mine.saves_unlocked = 0;
            nzpir_client *c = locked_client(&mine);
            int bad = 0;
            for (int k = 0; k < REFRESHES; k++) {
                nzpir_error *e = NULL;
                if (nzpir_oauth_refresh(c, &e) != NZPIR_STATUS_OK) {
                    fprintf(stderr, "child refresh: %s\n", nzpir_error_message(e));
                    bad++;
                }
                nzpir_error_free(e);
            }
            nzpir_outcome *o = NULL;
            nzpir_error *e = NULL;
            bad += nzpir_client_lookup(c, "{\"IRD\":\"139439976\"}", &o, &e) != NZPIR_STATUS_OK;
            nzpir_outcome_free(o);
            nzpir_error_free(e);
            nzpir_client_free(c);
            bad += mine.saves != REFRESHES || mine.saves_unlocked != 0 || mine.locks < REFRESHES ||
                   mine.held;
            _exit(bad > 100 ? 100 : bad);
        }
        CHECK(pids[i] > 0);
    }
    for (int i = 0; i < PROCESSES; i++) {
        int status = 0;
        CHECK(waitpid(pids[i], &status, 0) == pids[i]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK(refresh_replays() == replays_before);

    /* The grant in the file is the live one. */
    client = locked_client(&store);
    CHECK_STATUS(nzpir_oauth_refresh(client, &err), err, NZPIR_STATUS_OK);
    lookup_rate(client, NZPIR_STATUS_OK);

    /* A lock that cannot be taken fails the call; nothing is refreshed. */
    store.fail_lock = 1;
    int saves = store.saves;
    nzpir_status s = nzpir_oauth_refresh(client, &err);
    CHECK(contains(nzpir_error_message(err), "lock callback failed"));
    CHECK_STATUS(s, err, NZPIR_STATUS_TOKEN_STORE);
    CHECK(store.saves == saves);
    nzpir_client_free(client);

    /* A lock without its unlock is refused before anything runs. */
    char *json = oauth_config("sandbox-app");
    nzpir_token_store callbacks = {&store, file_load, file_save};
    nzpir_token_store_lock half = {file_lock, NULL};
    nzpir_client *none = NULL;
    s = nzpir_client_new_with_locked_token_store(json, &callbacks, &half, &none, &err);
    CHECK(none == NULL);
    CHECK(contains(nzpir_error_message(err), "lock.unlock"));
    CHECK_STATUS(s, err, NZPIR_STATUS_NULL_ARGUMENT);
    free(json);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int main(void) {
    code_flow_and_rotation();
    declined_consent();
    failing_stores();
    processes_share_a_locked_store();
    return finish("test_oauth");
}
