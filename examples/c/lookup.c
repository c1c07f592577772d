/*
 * The shortest useful nzpir program: a client from a configuration file (the
 * sandbox writes a ready one), one lookup, the suggested rate.
 *
 *   cc lookup.c $(pkg-config --cflags --libs nzpir) -o lookup
 *   ./lookup sandbox-pki/nzpir.toml 139276507 125000002
 */
#include <stdio.h>

#include "nzpir.h"

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s CONFIG IRD [PIE_IRD]\n", argv[0]);
        return 2;
    }
    if (nzpir_abi_version() != NZPIR_ABI_VERSION) {
        fprintf(stderr, "libnzpir %s does not match this program's nzpir.h\n", nzpir_version());
        return 1;
    }

    nzpir_client *client = NULL;
    nzpir_error *err = NULL;
    if (nzpir_client_new_from_file(argv[1], &client, &err) != NZPIR_STATUS_OK) {
        fprintf(stderr, "configuration: %s\n", nzpir_error_message(err));
        nzpir_error_free(err);
        return 1;
    }

    /* IR's request as JSON. Validate and normalise the numbers first, so that
     * nothing but digits goes into the JSON text. */
    char ird[NZPIR_IRD_BUFFER_LEN], pie[NZPIR_IRD_BUFFER_LEN], request[64];
    if (nzpir_ird_normalise(argv[2], ird, sizeof ird, &err) != NZPIR_STATUS_OK ||
        (argc == 4 && nzpir_ird_normalise(argv[3], pie, sizeof pie, &err) != NZPIR_STATUS_OK)) {
        fprintf(stderr, "%s\n", nzpir_error_message(err));
        nzpir_error_free(err);
        nzpir_client_free(client);
        return 2;
    }
    if (argc == 4) {
        snprintf(request, sizeof request, "{\"IRD\":\"%s\",\"PieIRD\":\"%s\"}", ird, pie);
    } else {
        snprintf(request, sizeof request, "{\"IRD\":\"%s\"}", ird);
    }

    nzpir_outcome *outcome = NULL;
    nzpir_status status = nzpir_client_lookup(client, request, &outcome, &err);
    int exit_code = 0;
    if (status != NZPIR_STATUS_OK) {
        const char *code = nzpir_error_ir_code(err);
        fprintf(stderr, "lookup failed (%s%s%s): %s\n", nzpir_error_kind(err), code ? ", " : "",
                code ? code : "", nzpir_error_message(err));
        nzpir_error_free(err);
        exit_code = 1;
    } else if (nzpir_outcome_is_not_found(outcome)) {
        printf("IR has no suggested PIR for this investor\n");
    } else {
        printf("suggested PIR: %s %%\n", nzpir_outcome_rate(outcome));
    }
    nzpir_outcome_free(outcome);
    nzpir_client_free(client);
    return exit_code;
}
