package main

import (
	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
)

func openAPICmd() *cobra.Command {
	return &cobra.Command{
		Use:   "openapi",
		Short: "Print the admin API's OpenAPI 3 document (also served at /api/v1/openapi.json)",
		Long: `openapi prints the OpenAPI 3 document of the admin API that serve --admin-listen
serves: every route, its role, request and answer. It needs no tenant.`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := adminapi.MarshalOpenAPI()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(append(b, '\n'))
			return err
		},
	}
}
