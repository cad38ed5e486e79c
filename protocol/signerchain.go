package protocol

// CapSignerChain is announced by agents that trust a signing certificate by
// its chain to the tenant CA and SigningPolicy (Chain). The server signs
// for agents without it with the certificate they pinned at enrollment
// while a rotation keeps it.
const CapSignerChain = "signer_chain"
