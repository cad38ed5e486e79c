package protocol

// AgentPackageID is the package id of the agent's own installer. The
// catalog's in-house app with it is Mobile@Work itself: the agent shows it
// at its own version and installs it as an upgrade of itself.
const AgentPackageID = "com.mobileatwork.agent"
