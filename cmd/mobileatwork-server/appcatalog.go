package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mobileatwork/mobileatwork/internal/cli"
	"github.com/mobileatwork/mobileatwork/server"
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
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, args []string) error {
			var req server.SetAppRequest
			str := func(name string) *string {
				if !cmd.Flags().Changed(name) {
					return nil
				}
				val := v.GetString(name)
				return &val
			}
			req.Publisher, req.Category = str("publisher"), str("category")
			req.ShortDescription, req.Description = str("short-description"), str("description")
			req.Icon, req.IconAlt = str("icon"), str("icon-alt")
			if cmd.Flags().Changed("screenshot") {
				req.Screenshots = []server.ScreenshotFile{}
				shots, err := cmd.Flags().GetStringArray("screenshot")
				if err != nil {
					return err
				}
				for _, sh := range shots {
					p, alt, ok := strings.Cut(sh, "=")
					if !ok {
						return fmt.Errorf("%w: --screenshot %q: want FILE=DESCRIPTION", server.ErrInvalid, sh)
					}
					req.Screenshots = append(req.Screenshots, server.ScreenshotFile{Path: p, Alt: alt})
				}
			}
			info, err := s.SetApp(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "app %s (%q) updated: %d screenshot(s), icon %s\n",
				info.ID, info.Name, len(info.Details.Screenshots), yesNo(info.Details.Icon != nil))
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
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			r, err := s.AddReview(cmd.Context(), v.GetString("app"), v.GetString("author"), v.GetInt("rating"), v.GetString("text"))
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
		RunE: withServer(func(s *server.Server, cmd *cobra.Command, _ []string) error {
			ds, err := s.DistributeApp(cmd.Context(), v.GetString("app"), v.GetStringSlice("to"))
			if err != nil {
				return err
			}
			for _, d := range ds {
				fmt.Fprintln(cmd.OutOrStdout(), d.ID)
			}
			return nil
		}),
	}
	distribute.Flags().String("app", "", "app id")
	distribute.Flags().StringArray("to", nil, "TARGET (repeatable, comma-separated)")
	return []*cobra.Command{set, review, distribute}
}

// appInfoJSON is one entry of `app list --json`.
type appInfoJSON struct {
	appJSON
	Publisher        string             `json:"publisher,omitempty"`
	Category         string             `json:"category,omitempty"`
	ShortDescription string             `json:"short_description,omitempty"`
	Description      string             `json:"description,omitempty"`
	Icon             *imageJSON         `json:"icon,omitempty"`
	Screenshots      []imageJSON        `json:"screenshots"`
	Rating           float64            `json:"rating"`
	Reviews          []reviewJSON       `json:"reviews"`
	Distributions    []distributionJSON `json:"distributions"`
}

type imageJSON struct {
	SHA256      string `json:"sha256"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	Alt         string `json:"alt"`
}

type reviewJSON struct {
	ID     string    `json:"id"`
	Author string    `json:"author"`
	Rating int       `json:"rating"`
	Text   string    `json:"text"`
	Date   time.Time `json:"date"`
}

type distributionJSON struct {
	ID     string `json:"id"`
	Target string `json:"target"` // as given to --to
}

func toAppInfoJSON(info server.AppInfo) appInfoJSON {
	d := info.Details
	out := appInfoJSON{
		appJSON: toAppJSON(info.App), Publisher: d.Publisher, Category: d.Category,
		ShortDescription: d.ShortDescription, Description: d.Description, Rating: info.Rating,
		Screenshots: []imageJSON{}, Reviews: []reviewJSON{}, Distributions: []distributionJSON{},
	}
	if d.Icon != nil {
		out.Icon = &imageJSON{d.Icon.SHA256, d.Icon.Size, d.Icon.ContentType, d.Icon.Alt}
	}
	for _, s := range d.Screenshots {
		out.Screenshots = append(out.Screenshots, imageJSON{s.SHA256, s.Size, s.ContentType, s.Alt})
	}
	for _, r := range info.Reviews {
		out.Reviews = append(out.Reviews, reviewJSON{r.ID, r.Author, r.Rating, r.Text, r.CreatedAt})
	}
	for _, dist := range info.Distributions {
		out.Distributions = append(out.Distributions, distributionJSON{dist.ID, targetText(dist.Target, dist.TargetID)})
	}
	return out
}

func targetText(kind, id string) string {
	if id == "" {
		return kind
	}
	return kind + ":" + id
}

// catalogRow is the Apps@Work part of an `app list` table row.
func catalogRow(info server.AppInfo) []string {
	rating := "-"
	if len(info.Reviews) > 0 {
		rating = strconv.FormatFloat(info.Rating, 'f', 1, 64) + " (" + strconv.Itoa(len(info.Reviews)) + ")"
	}
	var to []string
	for _, d := range info.Distributions {
		to = append(to, targetText(d.Target, d.TargetID))
	}
	return []string{info.Details.Category, rating, strings.Join(to, ",")}
}
