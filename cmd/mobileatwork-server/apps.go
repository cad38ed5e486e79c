package main

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
)

func appCmd() *cobra.Command {
	c := &cobra.Command{Use: "app", Short: "The app catalog: packager, in-house and Apps & Books apps"}
	add := &cobra.Command{
		Use:   "add --name NAME --kind packager|inhouse|appsandbooks (--package-id ID | --bundle-id ID) [--version V] [--priority] [--file PKG]",
		Short: "Add an app to the catalog; prints its id last",
		Long: `add puts an app in the catalog. Devices report their PKG receipts and app
bundles; an app counts as installed on a device when a receipt with its
--package-id or a bundle with its --bundle-id is there, at --version or newer
when one is given (versions compare part by part: 1.10 is newer than 1.9).
--priority makes it an onboarding stage of its own. --file keeps a flat PKG
with the entry, in the file store (DATA/files/, by SHA-256).`,
		Args: cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			file := v.GetString("file")
			if file != "" && c.Server() == nil {
				return errors.New("--file names a package on the server's host: with --server, run app add on that host with --data, or add the app without --file")
			}
			a, err := adminapi.Call(cmd.Context(), c, adminapi.AddApp, adminapi.AppRequest{
				Name: v.GetString("name"), Kind: v.GetString("kind"), PackageID: v.GetString("package-id"),
				BundleID: v.GetString("bundle-id"), Version: v.GetString("version"), Priority: v.GetBool("priority"),
				File: file,
			})
			if err != nil {
				return err
			}
			msg := fmt.Sprintf("app %q added to the catalog (%s)", a.Name, a.Kind)
			if a.FileSize > 0 {
				msg += fmt.Sprintf(", package %d bytes, sha256 %s", a.FileSize, a.FileSHA256)
			}
			fmt.Fprintln(cmd.ErrOrStderr(), msg)
			fmt.Fprintln(cmd.OutOrStdout(), a.ID)
			return nil
		}),
	}
	f := add.Flags()
	f.String("name", "", "app name")
	f.String("kind", "", "packager, inhouse or appsandbooks")
	f.String("package-id", "", "PKG identifier, matched against the receipts devices report")
	f.String("bundle-id", "", "bundle identifier, matched against the app bundles devices report")
	f.String("version", "", "minimum version that counts as installed (default: any)")
	f.Bool("priority", false, "install as an onboarding stage of its own")
	f.String("file", "", "flat PKG to keep with the entry")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the app catalog",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			apps, err := adminapi.All(cmd.Context(), c, adminapi.ListApps, adminapi.ListRequest{})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), apps)
			}
			rows := [][]string{}
			for _, a := range apps {
				file := ""
				if a.FileSize > 0 {
					file = strconv.FormatInt(a.FileSize, 10)
				}
				rows = append(rows, append([]string{a.ID, a.Name, a.Kind, a.PackageID, a.BundleID, orAny(a.Version), yesNo(a.Priority), file}, catalogRow(a)...))
			}
			return cli.Table(cmd.OutOrStdout(), []string{"ID", "NAME", "KIND", "PACKAGE ID", "BUNDLE ID", "VERSION", "PRIORITY", "PKG BYTES", "CATEGORY", "RATING", "DISTRIBUTED TO"}, rows)
		}),
	}
	list.Flags().Bool("json", false, "print JSON: an array of app objects")
	c.AddCommand(add, list)
	c.AddCommand(appCatalogCmds()...)
	return c
}

func inventoryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inventory --device ID",
		Short: "Show a device's receipts, apps, and whether each packager app is installed",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			id := v.GetString("device")
			if id == "" {
				return fmt.Errorf("--device is required; see `mobileatwork-server devices`")
			}
			view, err := adminapi.Call(cmd.Context(), c, adminapi.DeviceInventory, adminapi.IDRequest{ID: id})
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				return cli.JSON(cmd.OutOrStdout(), view)
			}
			return printInventory(cmd, view)
		}),
	}
	cmd.Flags().String("device", "", "device id")
	cmd.Flags().Bool("json", false, "print JSON")
	return cmd
}

func printInventory(cmd *cobra.Command, view server.InventoryView) error {
	w := cmd.OutOrStdout()
	d := view.Device
	last := "never"
	if d.LastCheckin != nil {
		last = d.LastCheckin.Local().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "Device %s  serial %s  %s macOS %s (%s)  agent %s  last check-in %s\n",
		d.ID, cli.Printable(d.SerialNumber), cli.Printable(d.Model), cli.Printable(d.OSVersion), cli.Printable(d.OSBuild), cli.Printable(d.AgentVersion), last)
	fmt.Fprintf(w, "Inventory collected %s, received %s\n\n", view.CollectedAt.Local().Format(time.RFC3339), view.ReceivedAt.Local().Format(time.RFC3339))

	fmt.Fprintf(w, "Packager apps (%d)\n", len(view.PackagerApps))
	rows := [][]string{}
	for _, a := range view.PackagerApps {
		id := a.PackageID
		if id == "" {
			id = a.BundleID
		}
		rows = append(rows, []string{a.ID, a.Name, id, orAny(a.Version), yesNo(a.Installed), a.InstalledVersion})
	}
	if err := cli.Table(w, []string{"ID", "NAME", "IDENTIFIER", "VERSION", "INSTALLED", "INSTALLED VERSION"}, rows); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nReceipts (%d)\n", len(view.Receipts))
	rows = [][]string{}
	for _, r := range view.Receipts {
		date := ""
		if !r.InstallDate.IsZero() {
			date = r.InstallDate.Local().Format(time.DateOnly)
		}
		rows = append(rows, []string{r.PackageID, r.Version, date, r.InstallPrefix})
	}
	if err := cli.Table(w, []string{"PACKAGE ID", "VERSION", "INSTALLED", "PREFIX"}, rows); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nApps (%d)\n", len(view.Apps))
	rows = [][]string{}
	for _, a := range view.Apps {
		rows = append(rows, []string{a.Name, a.BundleID, a.Version, a.Build, a.Path})
	}
	if err := cli.Table(w, []string{"NAME", "BUNDLE ID", "VERSION", "BUILD", "PATH"}, rows); err != nil {
		return err
	}
	if len(view.Errors) > 0 {
		fmt.Fprintf(w, "\nUnreadable files (%d)\n", len(view.Errors))
		rows = [][]string{}
		for _, e := range view.Errors {
			rows = append(rows, []string{e.Path, e.Error})
		}
		return cli.Table(w, []string{"PATH", "ERROR"}, rows)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orAny(version string) string {
	if version == "" {
		return "any"
	}
	return version
}
