/*
 * A client used, then fork()ed: the child must open a TLS connection of its
 * own and never write on the one it inherited (same keys, same sequence
 * numbers as the parent's: AES-GCM nonce reuse on the wire). The sandbox
 * counts the connections it accepts; the parent's connection must stay
 * usable after the child's lookups.
 *
 * Runs under valgrind (which follows the child) and AddressSanitizer like
 * every program here; a child's failure, leak or memory error makes its
 * exit status non-zero and fails the parent's check.
 */
#define _POSIX_C_SOURCE 200809L

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define PIE_S "125000002"
#define REQUEST "{\"IRD\":\"139276507\",\"PieIRD\":\"" PIE_S "\"}"

/* The sandbox's count of TLS connections (reading it opens one). */
static long connections(void) { return sandbox_stat("connections"); }

/* Three lookups of a 28 % investor; the number that succeeded. */
static int lookups(const nzpir_client *client) {
    int ok = 0;
    for (int i = 0; i < 3; i++) {
        nzpir_outcome *outcome = NULL;
        nzpir_error *err = NULL;
        nzpir_status s = nzpir_client_lookup(client, REQUEST, &outcome, &err);
        uint32_t hundredths = 0;
        if (s == NZPIR_STATUS_OK && nzpir_outcome_rate_hundredths(outcome, &hundredths) &&
            hundredths == 2800) {
            ok++;
        } else {
            fprintf(stderr, "pid %d: lookup failed: %s\n", (int)getpid(),
                    err ? nzpir_error_message(err) : "wrong rate");
        }
        nzpir_outcome_free(outcome);
        nzpir_error_free(err);
    }
    return ok;
}

int main(void) {
    char *json = sandbox_config(env("NZPIR_SANDBOX_URL"), env("NZPIR_SANDBOX_CLIENT_CERT"),
                                env("NZPIR_SANDBOX_CLIENT_KEY"), 1, NULL, "");
    nzpir_client *client = NULL;
    nzpir_error *err = NULL;
    CHECK_STATUS(nzpir_client_new_from_json(json, &client, &err), err, NZPIR_STATUS_OK);
    free(json);
    if (client == NULL) {
        return finish("test_fork");
    }
    CHECK(lookups(client) == 3); /* a kept-alive connection now exists */
    long before = connections();
    CHECK(before > 0);

    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int ok = lookups(client);
        nzpir_client_free(client);
        exit(ok == 3 ? 0 : 1);
    }
    CHECK(pid > 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* The child's one connection, and this count's own. */
    long after_child = connections();
    CHECK(after_child == before + 2);
    /* The parent's connection was never written on by the child: it still works. */
    CHECK(lookups(client) == 3);
    CHECK(connections() == after_child + 1);

    nzpir_client_free(client);
    return finish("test_fork");
}
