// The one translation unit that compiles Boost.JSON (header-only mode elsewhere is disabled).
#include <boost/json/src.hpp>
