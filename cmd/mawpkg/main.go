// Command mawpkg builds the Mobile@Work installer package from the two thin
// darwin binaries of cmd/mobileatwork:
//
//	mawpkg --version 1.4.2 --arm64 BIN_ARM64 --amd64 BIN_AMD64 --out dist/MobileAtWork-1.4.2.pkg \
//	       [--sign-cert CERT.pem --sign-key KEY.pem]
//
// SOURCE_DATE_EPOCH, when set, fixes the timestamps for reproducible builds.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mobileatwork/mobileatwork/packaging"
)

func main() { os.Exit(exitCode(run(os.Args[1:]), os.Stderr)) }

// exitCode prints err as one error line and says how to exit: -h printed
// the usage and is not an error.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	}
	fmt.Fprintln(stderr, "error:", err)
	return 1
}

func run(args []string) error {
	fl := flag.NewFlagSet("mawpkg", flag.ContinueOnError)
	version := fl.String("version", "", "agent version written into the package (required)")
	arm64 := fl.String("arm64", "", "darwin/arm64 build of cmd/mobileatwork (required)")
	amd64 := fl.String("amd64", "", "darwin/amd64 build of cmd/mobileatwork (required)")
	out := fl.String("out", "", "path of the .pkg to write (required)")
	certFile := fl.String("sign-cert", "", "PEM certificate chain of the signing identity, leaf first")
	keyFile := fl.String("sign-key", "", "PEM RSA private key of the signing identity")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *version == "" || *arm64 == "" || *amd64 == "" || *out == "" {
		return fmt.Errorf("--version, --arm64, --amd64 and --out are required (see -h)")
	}
	if (*certFile == "") != (*keyFile == "") {
		return fmt.Errorf("--sign-cert and --sign-key go together")
	}
	created, err := packaging.BuildTime(os.Getenv, time.Now)
	if err != nil {
		return err
	}
	opt := packaging.Options{Version: *version, Created: created, ARM64File: *arm64, AMD64File: *amd64}
	if opt.ARM64, err = os.ReadFile(*arm64); err != nil {
		return err
	}
	if opt.AMD64, err = os.ReadFile(*amd64); err != nil {
		return err
	}
	if *certFile != "" {
		certPEM, err := os.ReadFile(*certFile)
		if err != nil {
			return err
		}
		keyPEM, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		if opt.Signer, err = packaging.LoadSigner(certPEM, keyPEM); err != nil {
			return err
		}
	}
	if err := packaging.WriteFile(*out, opt); err != nil {
		return err
	}
	fmt.Println(*out)
	return nil
}
