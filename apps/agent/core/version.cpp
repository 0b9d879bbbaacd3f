// Each agent executable compiles this file with its own DOCKMON_AGENT_VERSION.
#include "core/version.hpp"

namespace dockmon::agent {

const char* const agent_version = DOCKMON_AGENT_VERSION;

}  // namespace dockmon::agent
