// Text from outside (plugin names, destination messages) made safe for an HTML page.
#pragma once

#include <string>
#include <string_view>

namespace synchost {

// `s` escaped for element content and quoted attribute values; control characters become U+FFFD.
std::string html_escape(std::string_view s);

}  // namespace synchost
