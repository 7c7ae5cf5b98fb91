// `syncplugin-airbyte write`: RECORD messages from stdin to the plugin, in batches, and each STATE
// message echoed only once every record before it has been acknowledged by the plugin's flush.
#pragma once

#include "output.hpp"

#include "plugin/loader.hpp"

#include <boost/json/object.hpp>

#include <atomic>
#include <istream>
#include <memory>

namespace airbyte {

// Returns the process exit code: 0 when stdin ended and everything before its end was settled
// (delivered or rejected), 1 after a TRACE ERROR (nothing after the last echoed STATE is
// certain to be delivered; Airbyte runs the attempt again from there).
int run_write(const std::shared_ptr<synchost::Plugin> &plugin, const boost::json::object &config,
              const boost::json::object &catalog, std::istream &in, Output &out, const std::atomic<bool> &cancel);

}  // namespace airbyte
