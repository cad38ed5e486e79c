package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
)

func pkiCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pki",
		Short: "The tenant's certificates: rotate the signing one, retire the previous one, renew the TLS one",
	}
	rotate := &cobra.Command{
		Use:   "rotate-signing",
		Short: "Make a new signing certificate and keep the one in use beside it",
		Long: `rotate-signing makes a new signing key and certificate under the tenant CA and keeps
the one in use as the previous one. Once serve is restarted it signs check-ins
with the new one for agents that trust a signer by its chain to the tenant CA
(this release and later), and with the previous one for older agents, which
trust only the certificate they pinned at enrollment; script blobs stay signed
by the previous one, which every agent trusts. Retire the previous one with
retire-signing once every device checked in since. One rotation at a time.`,
		Args: cli.NoArgs,
		RunE: localOnly(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			r, err := s.RotateSigning(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "new signing certificate %s (expires %s); previous %s kept until retire-signing\n",
				r.Serial, r.NotAfter.UTC().Format(time.DateOnly), r.Previous)
			fmt.Fprintln(cmd.ErrOrStderr(), "restart serve (every replica) to sign with it")
			fmt.Fprintln(cmd.OutOrStdout(), r.Serial)
			return nil
		}),
	}
	retire := &cobra.Command{
		Use:   "retire-signing [--force]",
		Short: "Remove the previous signing certificate once no device needs it",
		Long: `retire-signing signs every script again with the signing certificate in use, then
removes the previous one. It refuses while devices have not checked in since the
rotation, or run an agent that trusts only the certificate it pinned (those stop
accepting check-ins once it is gone), and says how many; --force retires it all
the same. The retired certificate is listed in every check-in answer from then
on: agents learn of it at their next check-in and refuse whatever it signs,
though its chain to the tenant CA stays valid until it expires. Agents of
earlier releases do not learn of it (counted, not waited for). Restart serve
afterwards.`,
		Args: cli.NoArgs,
		RunE: localOnly(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			r, err := s.RetireSigning(cmd.Context(), v.GetBool("force"))
			if err == nil || errors.Is(err, server.ErrSignerInUse) {
				fmt.Fprintf(cmd.ErrOrStderr(), "devices not checked in since the rotation: %d; devices whose agent trusts only its pinned certificate: %d; devices whose agent does not learn of retirements: %d\n",
					len(r.NotCheckedIn), len(r.OldAgents), len(r.Unaware))
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "previous signing certificate %s retired; script versions signed again: %d; restart serve\n", r.Retired, r.Resealed)
			fmt.Fprintln(cmd.ErrOrStderr(), "agents learn of the retirement at their next check-in once serve is restarted, and refuse whatever it signs from then on")
			return nil
		}),
	}
	retire.Flags().Bool("force", false, "retire even though some devices may still need it")
	renewTLS := &cobra.Command{
		Use:   "renew-tls",
		Short: "Make a new server TLS certificate for the names of the current one",
		Long: `renew-tls makes a new server TLS key and certificate under the tenant CA, for the
names and addresses the current one has, valid two years. Devices trust it
through the CA they pinned. Restart serve (every replica) to serve it.`,
		Args: cli.NoArgs,
		RunE: localOnly(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			serial, notAfter, err := s.RenewTLS(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "new server TLS certificate %s (expires %s); restart serve (every replica) to serve it\n",
				serial, notAfter.UTC().Format(time.DateOnly))
			fmt.Fprintln(cmd.OutOrStdout(), serial)
			return nil
		}),
	}
	cmd.AddCommand(rotate, retire, renewTLS)
	return cmd
}
