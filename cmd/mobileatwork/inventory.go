package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/internal/version"
	"github.com/mobileatwork/mobileatwork/inventory"
)

func inventoryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inventory [--root DIR]",
		Short: "Print the local inventory: PKG receipts and app bundles",
		Long: `inventory reads /var/db/receipts/*.plist and the Info.plist of app bundles under
/Applications (binary or XML plists). Hostile or malformed plists are listed
under errors and never stop the rest. --root prefixes every path (for tests).`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, err := inventory.Collect(cmd.Context(), inventory.Options{Root: v.GetString("root")})
			if err != nil {
				return err
			}
			f := inventory.DeviceFacts(version.Version)
			rep.Facts = &f
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), inventoryJSON(rep))
			}
			w := cmd.OutOrStdout()
			rows := [][]string{}
			for _, r := range rep.Receipts {
				installed := ""
				if !r.InstallDate.IsZero() {
					installed = r.InstallDate.Format("2006-01-02")
				}
				rows = append(rows, []string{r.PackageID, r.Version, installed})
			}
			cli.Table(w, []string{"PACKAGE", "VERSION", "INSTALLED"}, rows)
			fmt.Fprintln(w)
			rows = rows[:0]
			for _, a := range rep.Apps {
				rows = append(rows, []string{a.BundleID, a.Name, a.Version, a.Build, a.Path})
			}
			cli.Table(w, []string{"BUNDLE ID", "NAME", "VERSION", "BUILD", "PATH"}, rows)
			for _, e := range rep.Errors {
				fmt.Fprintf(cmd.ErrOrStderr(), "skipped %s: %s\n", e.Path, e.Error)
			}
			return nil
		},
	}
	cmd.Flags().String("root", "", "prefix of every path read (default /)")
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

// inventoryOutput is inventory.Report as `inventory --json` prints it: a
// receipt whose plist has no install date leaves install_date out instead
// of printing year 1. The report itself keeps the field for the server.
type inventoryOutput struct {
	Facts    *inventory.Facts      `json:"facts,omitempty"`
	Receipts []receiptOutput       `json:"receipts"`
	Apps     []inventory.App       `json:"apps"`
	Errors   []inventory.FileError `json:"errors"`
}

// receiptOutput is inventory.Receipt with other tags: the conversion
// between them stops compiling when Receipt's fields change.
type receiptOutput struct {
	PackageID      string    `json:"package_id"`
	Version        string    `json:"version"`
	InstallDate    time.Time `json:"install_date,omitzero"`
	InstallPrefix  string    `json:"install_prefix"`
	InstallProcess string    `json:"install_process,omitempty"`
}

func inventoryJSON(rep inventory.Report) inventoryOutput {
	out := inventoryOutput{Facts: rep.Facts, Receipts: []receiptOutput{}, Apps: rep.Apps, Errors: rep.Errors}
	for _, r := range rep.Receipts {
		out.Receipts = append(out.Receipts, receiptOutput(r))
	}
	// Empty lists print as [], as inventory.Report's own JSON does.
	if out.Apps == nil {
		out.Apps = []inventory.App{}
	}
	if out.Errors == nil {
		out.Errors = []inventory.FileError{}
	}
	return out
}
