package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
	"github.com/mobileatwork/mobileatwork/server/adminapi"
	"github.com/mobileatwork/mobileatwork/server/jsonview"
)

// appCatalogCmds are the Apps@Work commands under `app`: details, reviews
// and distribution.
func appCatalogCmds() []*cobra.Command {
	set := &cobra.Command{
		Use:   "set APP_ID [--publisher P] [--category C] [--short-description S] [--description D] [--icon FILE [--icon-alt TEXT]] [--screenshot FILE=DESCRIPTION ...]",
		Short: "Set what Apps@Work shows about an app",
		Long: `set changes the details of a catalog app; flags not given keep their value.
Images must be PNG or JPEG (checked from their bytes) of at most 2 MB; they are
kept in the file store (DATA/files/) and devices fetch them over mutual TLS, checked
against the SHA-256 in the signed check-in response. --screenshot replaces the
whole gallery; each needs a description (its text alternative).`,
		Args: cli.ExactArgs(1),
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, args []string) error {
			if err := needID(args[0], "app's id", "app list"); err != nil {
				return err
			}
			req := adminapi.AppChange{ID: args[0]}
			str := func(name string) *string {
				if !cmd.Flags().Changed(name) {
					return nil
				}
				val := v.GetString(name)
				return &val
			}
			req.Publisher, req.Category = str("publisher"), str("category")
			req.ShortDescription, req.Description = str("short-description"), str("description")
			req.IconAlt = str("icon-alt")
			if cmd.Flags().Changed("icon") {
				icon, err := readImage("--icon", v.GetString("icon"), "")
				if err != nil {
					return err
				}
				req.Icon = &icon
			}
			if cmd.Flags().Changed("screenshot") {
				gallery := []adminapi.Image{}
				shots, err := cmd.Flags().GetStringArray("screenshot")
				if err != nil {
					return err
				}
				for _, sh := range shots {
					p, alt, ok := strings.Cut(sh, "=")
					if !ok {
						return fmt.Errorf("%w: --screenshot %q: want FILE=DESCRIPTION", server.ErrInvalid, sh)
					}
					img, err := readImage("--screenshot", p, alt)
					if err != nil {
						return err
					}
					gallery = append(gallery, img)
				}
				req.Screenshots = &gallery
			}
			info, err := adminapi.Call(cmd.Context(), c, adminapi.SetApp, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "app %s (%q) updated: %d screenshot(s), icon %s\n",
				info.ID, info.Name, len(info.Screenshots), yesNo(info.Icon != nil))
			return nil
		}),
	}
	f := set.Flags()
	f.String("publisher", "", "publisher shown under the name")
	f.String("category", "", "category, for the catalog filter (e.g. Productivity)")
	f.String("short-description", "", "one line shown on the tile")
	f.String("description", "", "long description of the detail page")
	f.String("icon", "", "icon image (PNG or JPEG, at most 2 MB)")
	f.String("icon-alt", "", `text alternative of the icon (default "NAME icon")`)
	// StringArray, not StringSlice: a description may contain commas.
	f.StringArray("screenshot", nil, "screenshot as FILE=DESCRIPTION (repeatable; replaces the gallery)")

	review := &cobra.Command{Use: "review", Short: "User reviews of catalog apps"}
	reviewAdd := &cobra.Command{
		Use:   "add --app ID --author NAME --rating 1-5 [--text TEXT]",
		Short: "Add a review; prints its id last",
		Args:  cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			if err := needID(v.GetString("app"), "app's id with --app", "app list"); err != nil {
				return err
			}
			r, err := adminapi.Call(cmd.Context(), c, adminapi.ReviewApp, adminapi.ReviewRequest{
				ID: v.GetString("app"), Author: v.GetString("author"), Rating: v.GetInt("rating"), Text: v.GetString("text"),
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), r.ID)
			return nil
		}),
	}
	rf := reviewAdd.Flags()
	rf.String("app", "", "app id")
	rf.String("author", "", "name of the reviewer")
	rf.Int("rating", 0, "rating, 1 to 5 stars")
	rf.String("text", "", "review text")
	review.AddCommand(reviewAdd)

	distribute := &cobra.Command{
		Use:   "distribute --app ID --to TARGET...",
		Short: "Replace who sees an app in Apps@Work; prints the distribution ids",
		Long: `distribute replaces the distribution of an app of the catalog, as "config
distribute" does for configurations; --to none withdraws it. ` + targetHelp + `
Only distributed apps reach a device, inside its signed check-in response, and
only those devices may download their files.`,
		Args: cli.NoArgs,
		RunE: withAdmin(func(c adminapi.Conn, cmd *cobra.Command, _ []string) error {
			if err := needID(v.GetString("app"), "app's id with --app", "app list"); err != nil {
				return err
			}
			ds, err := adminapi.Call(cmd.Context(), c, adminapi.DistributeApp, adminapi.DistributionRequest{ID: v.GetString("app"), To: v.GetStringSlice("to")})
			if err != nil {
				return err
			}
			for _, d := range ds.Distributions {
				fmt.Fprintln(cmd.OutOrStdout(), d.ID)
			}
			return nil
		}),
	}
	distribute.Flags().String("app", "", "app id")
	distribute.Flags().StringArray("to", nil, "TARGET (repeatable, comma-separated)")
	return []*cobra.Command{set, review, distribute}
}

// catalogRow is the Apps@Work part of an `app list` table row.
func catalogRow(info jsonview.AppInfo) []string {
	rating := "-"
	if len(info.Reviews) > 0 {
		rating = strconv.FormatFloat(info.Rating, 'f', 1, 64) + " (" + strconv.Itoa(len(info.Reviews)) + ")"
	}
	var to []string
	for _, d := range info.Distributions {
		to = append(to, d.Target)
	}
	return []string{info.Category, rating, strings.Join(to, ",")}
}

// readImage reads an image file of app set for the request, as the
// server would read it: both modes send the image itself.
func readImage(flag, path, alt string) (adminapi.Image, error) {
	b, err := server.ReadImage(path)
	if err != nil {
		return adminapi.Image{}, fmt.Errorf("%w: %s %s: %v", server.ErrInvalid, flag, path, err)
	}
	return adminapi.Image{Name: path, Data: b, Alt: alt}, nil
}
