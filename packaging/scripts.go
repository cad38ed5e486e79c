package packaging

import _ "embed"

// The install scripts are static files, reviewed and shellchecked as they are
// shipped: nothing is substituted into them at build time.
var (
	//go:embed scripts/preinstall
	preinstallScript []byte
	//go:embed scripts/postinstall
	postinstallScript []byte
)
