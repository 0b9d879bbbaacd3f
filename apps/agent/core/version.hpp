// The agent's version, defined in one translation unit (version.cpp) so that the test builds of the same
// agent parts (dockmon-agent-next, dockmon-agent-broken) can carry another without compiling them again.
#pragma once

namespace dockmon::agent {

extern const char* const agent_version;

}  // namespace dockmon::agent
