// What syncplugin-airbyte prints: Airbyte protocol messages (v0, airbyte_protocol.yaml), one JSON
// object per line on stdout, written whole under a lock so plugin threads logging at the same
// time never interleave. Nothing else is written to stdout.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <mutex>
#include <ostream>
#include <string>

namespace airbyte {

// Airbyte's failure types for TRACE ERROR messages.
enum class Failure { config, system, transient };

struct Stream {
    std::string name, ns;  // ns: the namespace, empty when none
    boost::json::object descriptor() const;
};

class Output {
public:
    explicit Output(std::ostream &out) : out_(out) {}

    void log(const char *level, const std::string &message);  // level: INFO, WARN, ERROR, DEBUG
    void error(Failure type, const std::string &message, const Stream *stream = nullptr);
    void rate_limited(const Stream &stream, int64_t quota_reset_ms);
    void connection_status(bool ok, const std::string &message);
    void spec(boost::json::object spec);
    void destination_catalog(boost::json::object catalog);
    // A STATE message as received, with destinationStats set.
    void state(boost::json::object state, uint64_t records, uint64_t rejected);

    static int64_t now_ms();

private:
    void emit(boost::json::object message);
    std::mutex mu_;
    std::ostream &out_;
};

}  // namespace airbyte
