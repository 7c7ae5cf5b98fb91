#include "runtime/html_text.hpp"

namespace synchost {

std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                // Control characters would only garble the page.
                if (static_cast<unsigned char>(c) < 0x20)
                    out += "&#xFFFD;";
                else
                    out += c;
        }
    }
    return out;
}

}  // namespace synchost
