package executor

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/user"
	"sort"
	"strings"
	"sync"
)

// errInvalidRequest marks a request the executor refuses before starting
// anything (bad environment key, NUL in an argument).
var errInvalidRequest = errors.New("invalid run request")

// RunTokenVar carries a random per-run value into the script's environment.
// Every descendant inherits it, so processes that double-forked out of the
// tree before we could see them are still recognisable when a run is
// killed (the same idea as Jenkins' BUILD_ID cookie).
const RunTokenVar = "MAW_RUN_TOKEN"

// scriptPATH is the fixed search path of scripts: system directories only,
// nothing a user could have prepended.
const scriptPATH = "/usr/bin:/bin:/usr/sbin:/sbin"

// commandLine returns argv for the script at path. A script with a shebang
// is executed directly so the kernel picks its interpreter; anything else is
// fed to /bin/sh. Inputs are appended as separate argv entries: they are
// never part of any string a shell parses.
func commandLine(path string, script []byte, args []string) []string {
	argv := make([]string, 0, len(args)+2)
	if bytes.HasPrefix(script, []byte("#!")) {
		argv = append(argv, path)
	} else {
		argv = append(argv, "/bin/sh", path)
	}
	return append(argv, args...)
}

// interpreter returns the program named by the shebang line, if any.
func interpreter(script []byte) string {
	if !bytes.HasPrefix(script, []byte("#!")) {
		return ""
	}
	line := script[2:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	fields := strings.Fields(string(line))
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}

// startError explains a failed start in terms an admin can act on.
func startError(err error, script []byte) error {
	interp := interpreter(script)
	if interp == "" {
		return fmt.Errorf("start script: %w", err)
	}
	if firstLine := bytes.SplitN(script, []byte("\n"), 2)[0]; bytes.HasSuffix(firstLine, []byte("\r")) {
		return fmt.Errorf("start script: shebang ends with a carriage return (save the script with LF line endings): %w", err)
	}
	if _, serr := os.Stat(interp); serr != nil {
		return fmt.Errorf("start script: interpreter %q from the shebang line is not available: %w", interp, err)
	}
	return fmt.Errorf("start script with interpreter %q: %w", interp, err)
}

func validateArgs(args []string) error {
	for i, a := range args {
		if strings.IndexByte(a, 0) >= 0 {
			return fmt.Errorf("%w: argument %d contains a NUL byte", errInvalidRequest, i+1)
		}
	}
	return nil
}

func validEnvKey(k string) bool {
	if k == "" || (k[0] >= '0' && k[0] <= '9') {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// buildEnv returns the complete environment of the script. Nothing is
// inherited from the daemon: a root daemon's environment is not the admin's
// business and may carry secrets or a hostile PATH.
func buildEnv(req Request, token string) ([]string, error) {
	name, home := "", "/"
	if u := req.RunAs; u != nil {
		name, home = u.Name, u.Home
	} else if u, err := currentUser(); err == nil {
		name, home = u.Username, u.HomeDir
	}
	if home == "" {
		home = "/"
	}
	base := map[string]string{
		"PATH":      scriptPATH,
		"HOME":      home,
		"USER":      name,
		"LOGNAME":   name,
		"LANG":      "en_US.UTF-8",
		RunTokenVar: token,
	}
	env := []string{
		"PATH=" + base["PATH"],
		"HOME=" + home,
		"USER=" + name,
		"LOGNAME=" + name,
		"LANG=" + base["LANG"],
		RunTokenVar + "=" + token,
	}
	keys := make([]string, 0, len(req.Env))
	for k, v := range req.Env {
		if !validEnvKey(k) {
			return nil, fmt.Errorf("%w: environment key %q must match [A-Z_][A-Z0-9_]*", errInvalidRequest, k)
		}
		if _, reserved := base[k]; reserved {
			return nil, fmt.Errorf("%w: environment key %s is set by the executor", errInvalidRequest, k)
		}
		if strings.IndexByte(v, 0) >= 0 {
			return nil, fmt.Errorf("%w: environment value of %s contains a NUL byte", errInvalidRequest, k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+req.Env[k])
	}
	return env, nil
}

// currentUser is looked up once: the daemon's identity does not change.
var currentUser = sync.OnceValues(user.Current)

// NewRunToken makes a fresh random run token.
func NewRunToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make run token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
