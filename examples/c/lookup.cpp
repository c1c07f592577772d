// The C example (lookup.c) in C++ with the header-only wrapper nzpir.hpp:
// RAII handles, exceptions with the error's kind and IR's code.
//
//   c++ -std=c++17 lookup.cpp $(pkg-config --cflags --libs nzpir) -o lookup
//   ./lookup sandbox-pki/nzpir.toml 139276507 125000002
#include <iostream>

#include "nzpir.hpp"

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        std::cerr << "usage: " << argv[0] << " CONFIG IRD [PIE_IRD]\n";
        return 2;
    }
    if (!nzpir::abi_matches()) {
        std::cerr << "libnzpir " << nzpir::version() << " does not match this program's nzpir.h\n";
        return 1;
    }
    try {
        const nzpir::Client client = nzpir::Client::from_file(argv[1]);
        const nzpir::Outcome outcome = client.lookup(argv[2], argc == 4 ? argv[3] : "");
        if (outcome.not_found()) {
            std::cout << "IR has no suggested PIR for this investor\n";
        } else {
            std::cout << "suggested PIR: " << *outcome.rate() << " %\n";
        }
        return 0;
    } catch (const nzpir::Error &e) {
        std::cerr << "lookup failed (" << e.kind() << (e.ir_code() ? ", " + *e.ir_code() : "")
                  << "): " << e.what() << "\n";
        return e.kind() == "invalid_input" ? 2 : 1;
    }
}
