// pinterest-sandbox: the network half, Boost.Beast over TLS on one io_context (one thread), in the
// style of Beast's async SSL server examples: a listener that accepts, one session per
// connection, one composed operation per step, a timeout on every step.
#pragma once

#include "api.hpp"
#include "cert.hpp"
#include "options.hpp"
#include "state.hpp"

#include <functional>

namespace sandbox {

// Binds 127.0.0.1:opts.port, calls on_listening(port) once the socket listens, then serves until
// SIGINT or SIGTERM. Throws std::exception when the socket or the TLS setup fails.
void run_server(const Options& opts, const Certificates& certs, Api& api, State& state,
                const std::function<void(unsigned short)>& on_listening);

}  // namespace sandbox
